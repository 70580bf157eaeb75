"""Error messages in the listener's language, by stable error code.

The English message of a :class:`~tunelens.core.errors.TunelensError` is written where it is
raised and often names specifics (a limit, a field, an id). In another language the API
answers with this table's sentence for the error's ``code`` instead: the code and the
``details`` stay exactly as they are, so clients that branch on them see no difference, and
a person reads a sentence they understand. Codes without an entry keep their English text
(operator-facing failures such as a broken playlists file).
"""

from __future__ import annotations

from tunelens.i18n import N_, Translator

_IMAGE_FORMATS = "JPEG, PNG, WebP, GIF, BMP, TIFF"

#: code → English msgid (``%(formats)s`` is filled with the readable formats)
MESSAGES: dict[str, str] = {
    "missing_image": N_("No picture was sent: attach a photo and try again."),
    "empty_file": N_("That file is empty. Try another photo."),
    "not_an_image": N_(
        "That file isn't a picture tunelens can read. Supported formats: %(formats)s."
    ),
    "unsupported_media_type": N_(
        "That file isn't a picture tunelens can read. Supported formats: %(formats)s."
    ),
    "unsupported_format": N_(
        "That picture format isn't supported. Please save it as JPEG or PNG and try again."
    ),
    "truncated": N_("That picture looks damaged or cut short. Try another copy of it."),
    "too_large": N_("That photo or request is too big."),
    "too_many_pixels": N_(
        "That picture has too many pixels to read safely. Try a smaller version of it."
    ),
    "too_small": N_("That picture is too small to read. Try a bigger one."),
    "too_many_images": N_("Too many pictures in one request."),
    "invalid_top_k": N_("The number of songs must be a whole number within the allowed range."),
    "invalid_lang": N_("lang must be a language tag such as 'en' or 'ar'."),
    "context_too_long": N_("The context text is too long. Keep it to a sentence or two."),
    "too_many_excluded": N_("Too many songs to leave out in one request."),
    "invalid_json": N_("The request body is not valid JSON."),
    "invalid_request": N_("The request is not valid; check its fields."),
    "not_found": N_("There is nothing at this address."),
    "method_not_allowed": N_("This address does not accept that HTTP method."),
    "internal_error": N_("Something went wrong on our side; the error was logged."),
    "not_ready": N_("tunelens is still starting; try again in a moment."),
    "catalog_missing": N_("tunelens can't recommend right now: no song catalogue is loaded."),
    "model_missing": N_("tunelens can't recommend right now: the picture model is missing."),
    "track_not_found": N_("That song is not in the catalogue."),
    "prediction_not_found": N_("That answer is no longer known; analyse the photo again."),
    "invalid_feedback_kind": N_("Feedback must be like, dislike, not interested or played."),
    "comment_too_long": N_("The comment is too long."),
    "invalid_client_id": N_("The listener id is not valid."),
    "database_unavailable": N_("Your feedback cannot be saved right now; try again later."),
}


def translated_message(code: str, tr: Translator) -> str | None:
    """The sentence for ``code`` in ``tr``'s language, or ``None`` when it has none (or the
    language is English, whose raised messages are the more specific ones)."""
    msgid = MESSAGES.get(code)
    if msgid is None or tr.lang == "en":
        return None
    return tr.gettext(msgid, formats=_IMAGE_FORMATS) if "%(" in msgid else tr.gettext(msgid)
