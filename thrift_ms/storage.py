"""Static files storage for production: WhiteNoise's hashed, compressed
files, plus the one thing Jazzmin needs that a manifest cannot give."""

from pathlib import Path

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Jazzmin's base template asks for the URL of a folder
    (`{% static 'vendor/bootswatch' %}`) to build theme URLs in the
    browser. A folder has no hashed name, so the strict manifest refused it
    and every admin page failed with DEBUG off; a folder is now served
    under its own name. A missing file is still an error."""

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            if Path(self.path(name)).is_dir():
                return name
            raise
