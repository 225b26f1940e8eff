"""The one imaging layer every engine opens and colour-manages files through.

- ``containers``: walking PNG, JPEG and WebP containers (chunks, segments, signatures).
- ``decode``: bounded decoding, EXIF orientation, modes.
- ``colour``: ICC profiles and the one sRGB profile Draftroom embeds.

Framework-free: nothing here imports Django or ``apps``.
"""
