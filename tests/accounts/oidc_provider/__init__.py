"""The test provider's client and directory (shared by its seed script and the tests)."""

CLIENT_ID = "draftroom"
CLIENT_SECRET = "draftroom-client-secret"
PASSWORD = "directory-pass"

PEOPLE = [
    ("kari", "kari@fjell.example", ""),
    ("ola", "ola@fjell.example", ""),  # nobody invited this address
    ("eve", "eve@fjell.example", "unverified"),
]
