"""Errors a user can cause, each with a message that says what to do next.

Everything the CLI or the app should show as a one-line message (rather than a traceback) is a
`GanStudioError`. Programming errors stay ordinary exceptions so they are not hidden.
"""


class GanStudioError(Exception):
    """Base class for every error a user can meet; its message is shown as is.

    `field` names the setting the error is about, when it is about one, so a form can say it under that field.
    """

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class ConfigError(GanStudioError, ValueError):
    """A configuration value is missing, of the wrong type or out of its allowed range."""


class UnknownVariantError(ConfigError):
    """The requested variant is not in the registry."""


class DatasetUnavailableError(GanStudioError):
    """A dataset cannot be loaded (offline, missing files, too few images)."""


class CheckpointError(GanStudioError):
    """A checkpoint file is missing, foreign, corrupt or for another architecture."""


class ImageDecodeError(GanStudioError):
    """An uploaded image cannot be decoded or breaks the accepted limits."""


class TrainingDiverged(GanStudioError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""
