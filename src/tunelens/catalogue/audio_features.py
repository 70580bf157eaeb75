"""Spotify-like audio features computed from audio files with librosa.

Spotify's features come from proprietary models; none of the values below are Spotify's.
They are hand-built signal descriptors, squashed into Spotify's ranges so that a folder of
local files can sit in the same index as a Spotify catalogue and be matched to a picture's
mood. They are good enough to separate a slow, quiet, minor-key piece from a loud, fast,
bright one; they are *not* calibrated against Spotify's numbers, and the ones marked crude
below should be read as rough hints. Every constant was chosen by listening-free reasoning
plus a look at the 24 free game-music tracks in the shared test data, nothing more.

Analysis runs on the first ``max_seconds`` (default 120 s) of the file, decoded to 22,050 Hz
mono, with a 2048-sample STFT and 512-sample hop (≈23 ms frames).

What each feature approximates (``clip01`` = clip to [0, 1]):

* ``tempo`` — ``librosa.feature.tempo`` over ``librosa.onset.onset_strength`` (the global
  tempo estimate). ``librosa.beat.beat_track`` is deliberately not used: with librosa 0.11 and
  numba 0.68 it crashed the process on our machines. Like every tempo estimator it can be off
  by a factor of two.
* ``loudness`` — mean frame RMS converted to dBFS, clipped to Spotify's −60…0 dB. Spotify
  reports integrated loudness, which for the same mastered track reads a few dB higher.
* ``energy`` — ``0.55·level + 0.30·activity + 0.15·brightness`` where level =
  clip01((loudness + 30) / 24) (−30 dBFS → 0, −6 dBFS → 1), activity = clip01(mean onset
  strength / 2.5) (spectral flux: how much and how often the sound changes) and brightness =
  clip01((spectral centroid − 500 Hz) / 2500 Hz). Mirrors Spotify's description of energy
  as perceived loudness + onset rate + timbre.
* ``danceability`` — ``0.55·pulse + 0.25·tempo_fit + 0.20·percussive``: pulse =
  clip01((r − 0.1) / 0.6) with r the normalised autocorrelation of the onset envelope at the
  estimated beat period (a steady, strong beat scores high), tempo_fit a bell curve on a
  log-tempo axis peaking at 118 BPM (σ = half an octave), percussive = clip01(2 × the
  percussive share of the energy after harmonic/percussive separation of a mel spectrogram).
* ``key`` and ``mode`` — Krumhansl–Schmuckler key finding: the time-averaged STFT chroma is
  correlated with the 24 rotated Krumhansl–Kessler key profiles; the best one gives the pitch
  class (0 = C, as Spotify) and mode (1 = major, 0 = minor).
* ``valence`` — ``0.45·majorness + 0.25·pace + 0.30·brightness``: majorness =
  clip01(0.5 + 1.5·(best major correlation − best minor correlation)), pace =
  clip01((tempo − 70) / 80), brightness = clip01((centroid − 800 Hz) / 1700 Hz). Major, fast
  and bright music is heard as happier; this is the textbook finding, not a trained model.
* ``acousticness`` — ``1 − (0.5·hf + 0.5·noisiness)``: hf = clip01((dB share of the power
  above 4 kHz + 35) / 20), noisiness = clip01((log10 mean spectral flatness + 4) / 2.5).
  Synthesised, distorted and heavily produced music is bright and noise-like; acoustic
  instruments roll off. Crude: dark synth pads read as acoustic, a bright acoustic guitar
  reads lower than it should.
* ``instrumentalness`` — ``1 − vocal`` with vocal = clip01(harmonic share of the mel energy
  in the 300–3400 Hz voice band / 0.4) × clip01((s − 0.2) / 0.4), s the share of that band's
  envelope-modulation power at 3–8 Hz (the syllable rate) within 0.5–20 Hz. A crude proxy with
  no voice model: a lead synth or violin phrasing at 4–6 Hz reads as "vocal", and a sung
  track can still score 0.6+, unlike Spotify where songs with vocals sit near 0.
* ``speechiness`` — ``0.03 + 0.5·zcr_var·(0.5 + 0.5·pauses)·(0.5 + 0.5·vocal)``: zcr_var =
  clip01((coefficient of variation of the zero-crossing rate − 0.8) / 1.2), since speech
  alternates voiced (low ZCR) and unvoiced (high ZCR) sounds; pauses = clip01(share of frames
  below a tenth of the median RMS / 0.2). Crude and not validated on speech; music lands
  near Spotify's typical 0.03–0.2.
* ``liveness`` — ``0.08 + 0.4·clip01((log10 f_q + 2.5) / 1.5)`` with f_q the mean spectral
  flatness of the quietest fifth of the frames: an audience adds a broadband noise floor
  between notes. A crude proxy: noisy synth/chiptune sounds also raise it; clean studio
  recordings stay at 0.08.
* ``duration_ms`` — the whole file's duration (not only the analysed part).
* ``time_signature`` — always 4: no meter estimate is attempted; 4/4 is by far the most
  common value in Spotify's data.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Suffixes the folder loader picks up (decoding is attempted; failures become problems).
AUDIO_SUFFIXES: tuple[str, ...] = (
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".wav",
    ".flac",
    ".m4a",
    ".aac",
    ".aif",
    ".aiff",
)
SAMPLE_RATE = 22_050
DEFAULT_MAX_SECONDS = 120.0
_N_FFT = 2048
_HOP = 512
_MIN_SECONDS = 1.0

# Krumhansl–Kessler probe-tone profiles, C major and C minor (Krumhansl 1990).
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

FloatArray = NDArray[np.float32]


class AudioDecodeError(Exception):
    """A file could not be decoded into samples (the loader turns it into a RowProblem)."""


@dataclass(frozen=True, slots=True)
class AudioAnalysis:
    """Features of one file plus what the loader needs to name it."""

    features: dict[str, float]
    duration_s: float
    analysed_s: float
    tags: dict[str, str] = field(default_factory=dict)


def _db(share: float) -> float:
    """A power share in dB, floored at -120 dB so silence stays finite."""
    return 10.0 * math.log10(max(share, 1e-12))


def _clip01(x: float) -> float:
    if not math.isfinite(x):
        return 0.0
    return float(min(1.0, max(0.0, x)))


def _librosa() -> Any:
    """librosa, imported on first use so only audio-folder loads pay for numba and scipy."""
    import librosa  # noqa: PLC0415 - heavy optional work (numba, scipy); audio loads only

    return librosa


def decode(
    path: Path, *, sr: int = SAMPLE_RATE, max_seconds: float = DEFAULT_MAX_SECONDS
) -> tuple[FloatArray, float, dict[str, str]]:
    """Decode the first ``max_seconds`` of ``path`` to mono float32 at ``sr``.

    Returns ``(samples, full_duration_s, tags)``. libsndfile (via soundfile) is tried first:
    it reads OGG/FLAC/WAV/MP3 quickly and exposes title/artist tags; anything else falls back
    to ``librosa.load`` (audioread/ffmpeg when available). Only the needed frames are read,
    so a long file does not cost its full decode.
    """
    import soundfile as sf  # noqa: PLC0415 - loads libsndfile; only audio loads need it

    try:
        with sf.SoundFile(str(path)) as handle:
            tags = {k: v for k, v in handle.copy_metadata().items() if v}
            native_sr = int(handle.samplerate)
            total_frames = int(handle.frames)
            wanted = min(total_frames, int(max_seconds * native_sr))
            data = handle.read(wanted, dtype="float32", always_2d=True)
        duration_s = total_frames / native_sr if native_sr else 0.0
        mono = np.asarray(data.mean(axis=1), dtype=np.float32)
        if native_sr != sr and mono.size:
            mono = np.asarray(
                _librosa().resample(mono, orig_sr=native_sr, target_sr=sr), dtype=np.float32
            )
    except Exception as first_error:
        mono, duration_s, tags = _decode_with_librosa(path, sr, max_seconds, first_error)
    if mono.size < int(_MIN_SECONDS * sr):
        raise AudioDecodeError(f"{path.name}: shorter than {_MIN_SECONDS:g} s of audio")
    if not np.all(np.isfinite(mono)):
        raise AudioDecodeError(f"{path.name}: decoded samples contain NaN or infinity")
    return mono, duration_s, tags


def _decode_with_librosa(
    path: Path, sr: int, max_seconds: float, first_error: Exception
) -> tuple[FloatArray, float, dict[str, str]]:
    librosa = _librosa()
    try:
        with warnings.catch_warnings():
            # librosa warns "PySoundFile failed. Trying audioread" — we already know.
            warnings.simplefilter("ignore")
            y, _ = librosa.load(str(path), sr=sr, mono=True, duration=max_seconds)
            duration_s = float(librosa.get_duration(path=str(path)))
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        first = str(first_error) or type(first_error).__name__
        raise AudioDecodeError(
            f"{path.name}: cannot decode audio ({first}; fallback decoder: {reason})"
        ) from exc
    return np.asarray(y, dtype=np.float32), duration_s, {}


def _key_mode(chroma_mean: NDArray[np.floating[Any]]) -> tuple[int, int, float, float]:
    """Krumhansl–Schmuckler: (key, mode, best major r, best minor r)."""
    if float(np.std(chroma_mean)) < 1e-9:
        return 0, 1, 0.0, 0.0
    major = [float(np.corrcoef(chroma_mean, np.roll(_KK_MAJOR, k))[0, 1]) for k in range(12)]
    minor = [float(np.corrcoef(chroma_mean, np.roll(_KK_MINOR, k))[0, 1]) for k in range(12)]
    best_major = int(np.argmax(major))
    best_minor = int(np.argmax(minor))
    if major[best_major] >= minor[best_minor]:
        return best_major, 1, major[best_major], minor[best_minor]
    return best_minor, 0, major[best_major], minor[best_minor]


def _pulse(onset_env: NDArray[np.floating[Any]], tempo: float, frame_rate: float) -> float:
    """Normalised autocorrelation of the onset envelope at the estimated beat period."""
    if not (tempo > 0 and onset_env.size > 8):
        return 0.0
    ac = _librosa().autocorrelate(onset_env - onset_env.mean())
    if not ac[0] > 0:
        return 0.0
    ac = ac / ac[0]
    lag = round(60.0 * frame_rate / tempo)
    if 1 <= lag < ac.size - 1:
        return float(np.max(ac[max(lag - 1, 1) : lag + 2]))
    return 0.0


def _syllabic(envelope: NDArray[np.floating[Any]], frame_rate: float) -> float:
    """Share of the voice band's 0.5–20 Hz envelope modulation at 3–8 Hz (syllable rate)."""
    if envelope.size <= 64:
        return 0.0
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2
    mod_freqs = np.fft.rfftfreq(envelope.size, d=1.0 / frame_rate)
    in_range = (mod_freqs >= 0.5) & (mod_freqs <= 20.0)
    denominator = float(spectrum[in_range].sum())
    if not denominator > 0:
        return 0.0
    syllable = (mod_freqs >= 3.0) & (mod_freqs <= 8.0)
    return float(spectrum[syllable].sum()) / denominator


def _rhythm(y: FloatArray, sr: int) -> dict[str, float]:
    """Tempo, onset strength and pulse, from the onset envelope (never ``beat_track``)."""
    librosa = _librosa()
    # The onset envelope exactly as NOTES.md prescribes for tempo (beat_track segfaults).
    onset_env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=_HOP)
    tempo_arr = librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=_HOP)
    tempo = float(tempo_arr[0]) if tempo_arr.size else 0.0
    return {
        "tempo": tempo,
        "onset_mean": float(np.mean(onset_env)),
        "pulse": _pulse(onset_env, tempo, sr / _HOP),
    }


def _harmony(stft: FloatArray, power: FloatArray, sr: int) -> dict[str, float]:
    """Key, mode and the voice-band descriptors, from a harmonic/percussive split."""
    librosa = _librosa()
    # Harmonic / percussive split on a mel spectrogram (128 bands: ~10x cheaper than STFT).
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=128)
    harmonic, percussive = librosa.decompose.hpss(mel)
    hp_total = float(harmonic.sum() + percussive.sum()) or 1.0
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, hop_length=_HOP)
    key, mode, r_major, r_minor = _key_mode(chroma.mean(axis=1))
    mel_freqs = librosa.mel_frequencies(n_mels=128, fmax=sr / 2)
    band = (mel_freqs >= 300.0) & (mel_freqs <= 3400.0)
    envelope = np.log1p(harmonic[band].sum(axis=0))
    return {
        "percussive_share": float(percussive.sum()) / hp_total,
        "key": float(key),
        "mode": float(mode),
        "r_major": r_major,
        "r_minor": r_minor,
        "harmonic_vocal_share": float(harmonic[band].sum()) / (float(harmonic.sum()) or 1.0),
        "syllabic": _syllabic(envelope, sr / _HOP),
    }


def describe(y: FloatArray, sr: int) -> dict[str, float]:
    """Raw signal descriptors (dB, Hz, shares, correlations) the features are built from.

    Kept separate from :func:`features_from_descriptors` so the squashing constants can be
    inspected and re-tuned without re-decoding audio.
    """
    librosa = _librosa()
    y = np.ascontiguousarray(y, dtype=np.float32)
    stft = np.abs(librosa.stft(y, n_fft=_N_FFT, hop_length=_HOP))
    power = stft**2
    freqs = librosa.fft_frequencies(sr=sr, n_fft=_N_FFT)
    rms = librosa.feature.rms(y=y, frame_length=_N_FFT, hop_length=_HOP)[0]
    rhythm = _rhythm(y, sr)
    total_power = float(power.sum()) or 1e-12
    centroid = float(np.mean(librosa.feature.spectral_centroid(S=stft, sr=sr)[0]))
    flatness_frames = librosa.feature.spectral_flatness(S=stft)[0]
    harmony = _harmony(stft, power, sr)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=_N_FFT, hop_length=_HOP)[0]
    median_rms = float(np.median(rms))
    frames = min(rms.size, flatness_frames.size)
    quiet_idx = np.argsort(rms[:frames])[: max(1, frames // 5)]
    return {
        "rms_mean": float(np.mean(rms)),
        "tempo": rhythm["tempo"],
        "onset_mean": rhythm["onset_mean"],
        "centroid_hz": centroid,
        "flatness": float(np.mean(flatness_frames)),
        "hf_share": float(power[freqs >= 4000.0].sum()) / total_power,
        "percussive_share": harmony["percussive_share"],
        "pulse": rhythm["pulse"],
        "key": harmony["key"],
        "mode": harmony["mode"],
        "r_major": harmony["r_major"],
        "r_minor": harmony["r_minor"],
        "harmonic_vocal_share": harmony["harmonic_vocal_share"],
        "syllabic": harmony["syllabic"],
        "zcr_cv": float(np.std(zcr) / (np.mean(zcr) or 1.0)),
        "pauses": float(np.mean(rms < 0.1 * median_rms)) if median_rms > 0 else 0.0,
        "quiet_flatness": float(np.mean(flatness_frames[quiet_idx])) if frames else 0.0,
    }


def features_from_descriptors(d: dict[str, float], *, duration_s: float) -> dict[str, float]:
    """Squash :func:`describe`'s descriptors into Spotify's feature ranges (module docstring)."""
    loudness = float(np.clip(20.0 * math.log10(max(d["rms_mean"], 1e-9)), -60.0, 0.0))
    tempo = d["tempo"]

    level = _clip01((loudness + 30.0) / 24.0)
    activity = _clip01(d["onset_mean"] / 2.5)
    energy = 0.55 * level + 0.30 * activity + 0.15 * _clip01((d["centroid_hz"] - 500.0) / 2500.0)

    tempo_fit = math.exp(-0.5 * (math.log2(tempo / 118.0) / 0.5) ** 2) if tempo > 0 else 0.0
    danceability = (
        0.55 * _clip01((d["pulse"] - 0.1) / 0.6)
        + 0.25 * tempo_fit
        + 0.20 * _clip01(d["percussive_share"] / 0.5)
    )

    majorness = _clip01(0.5 + 1.5 * (d["r_major"] - d["r_minor"]))
    pace = _clip01((tempo - 70.0) / 80.0)
    brightness = _clip01((d["centroid_hz"] - 800.0) / 1700.0)
    valence = 0.45 * majorness + 0.25 * pace + 0.30 * brightness

    hf = _clip01((_db(d["hf_share"]) + 35.0) / 20.0)
    noisiness = _clip01((math.log10(max(d["flatness"], 1e-12)) + 4.0) / 2.5)
    acousticness = 1.0 - (0.5 * hf + 0.5 * noisiness)

    vocal = _clip01(d["harmonic_vocal_share"] / 0.4) * _clip01((d["syllabic"] - 0.2) / 0.4)
    instrumentalness = 1.0 - vocal

    speechiness = 0.03 + 0.5 * _clip01((d["zcr_cv"] - 0.8) / 1.2) * (
        0.5 + 0.5 * _clip01(d["pauses"] / 0.2)
    ) * (0.5 + 0.5 * vocal)
    quiet_noise = _clip01((math.log10(max(d["quiet_flatness"], 1e-12)) + 2.5) / 1.5)
    liveness = 0.08 + 0.4 * quiet_noise

    return {
        "danceability": round(_clip01(danceability), 4),
        "energy": round(_clip01(energy), 4),
        "key": d["key"],
        "loudness": round(loudness, 3),
        "mode": d["mode"],
        "speechiness": round(_clip01(speechiness), 4),
        "acousticness": round(_clip01(acousticness), 4),
        "instrumentalness": round(_clip01(instrumentalness), 4),
        "liveness": round(_clip01(liveness), 4),
        "valence": round(_clip01(valence), 4),
        "tempo": round(min(max(tempo, 0.0), 300.0), 3),
        "duration_ms": float(round(duration_s * 1000.0)),
        "time_signature": 4.0,
    }


def compute_features(y: FloatArray, sr: int, *, duration_s: float) -> dict[str, float]:
    """All 13 features for one mono signal (see the module docstring for the formulas)."""
    return features_from_descriptors(describe(y, sr), duration_s=duration_s)


def analyse_file(path: Path, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> AudioAnalysis:
    """Decode ``path`` and compute its features; raises :class:`AudioDecodeError`."""
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    samples, duration_s, tags = decode(path, sr=SAMPLE_RATE, max_seconds=max_seconds)
    features = compute_features(samples, SAMPLE_RATE, duration_s=duration_s)
    if features["tempo"] <= 0:
        del features["tempo"]  # silence or no pulse: unknown, like Spotify's tempo 0
    return AudioAnalysis(
        features=features,
        duration_s=duration_s,
        analysed_s=samples.size / SAMPLE_RATE,
        tags=tags,
    )
