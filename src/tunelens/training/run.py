"""What every training command shares: the settings, the encoder it embeds with, the seed of
its random choices, and where its progress lines go.

Training never assembles an engine of its own: the encoder comes from the model hub's
:func:`~tunelens.modelhub.loader.load_encoder` and a reader, when one is needed, from
:func:`tunelens.pipeline.build_reader`, exactly as the engine gets them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tunelens.core.settings import EncoderChoice, Settings
from tunelens.modelhub.loader import load_encoder
from tunelens.vision.base import Encoder

#: receives one line of progress at a time (the CLI prints them to stderr)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingRun:
    """One training run's surroundings (see the module docstring)."""

    settings: Settings
    #: which encoder to load; None: the settings' choice
    encoder: EncoderChoice | None = None
    seed: int = 0
    progress: Progress | None = None
    #: an encoder already loaded (the retrain scheduler's), used instead of loading one
    loaded: Encoder | None = None

    def say(self, message: str) -> None:
        """Pass one progress line on, when anyone listens."""
        if self.progress is not None:
            self.progress(message)

    def load_encoder(self) -> tuple[Encoder, list[str]]:
        """The encoder to embed with, and the loader's notices (none for a loaded one)."""
        if self.loaded is not None:
            return self.loaded, []
        return load_encoder(self.encoder or self.settings.encoder, self.settings)

    @property
    def encoder_choice(self) -> EncoderChoice:
        return self.encoder or self.settings.encoder
