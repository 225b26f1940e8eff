from django.db import migrations


def add_defaults(apps, schema_editor):
    from apps.exports.defaults import default_preset_rows

    ChannelPreset = apps.get_model("exports", "ChannelPreset")
    for row in default_preset_rows():
        ChannelPreset.objects.get_or_create(slug=row["slug"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("exports", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
