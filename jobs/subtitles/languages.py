"""Target languages Subcue offers, by ISO 639-1 code."""

LANGUAGES = {
    "en": "English", "fa": "Persian", "ar": "Arabic", "es": "Spanish", "fr": "French",
    "de": "German", "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "hi": "Hindi",
    "tr": "Turkish", "pt": "Portuguese", "it": "Italian", "nl": "Dutch", "ko": "Korean",
    "pl": "Polish", "uk": "Ukrainian", "sv": "Swedish", "id": "Indonesian", "ur": "Urdu",
}  # fmt: skip
"""Code -> English name; the Gemini engine can translate into each of these."""


def name_of(code: str) -> str:
    """The language's English name (the code itself if unknown)."""
    return LANGUAGES.get(code, code)
