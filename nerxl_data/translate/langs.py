"""Language codes: one table from ISO 639-1/639-3 to each translation backend's codes.

Rows cover every MasakhaNER 2.0 language (20), every XTREME PAN-X language (40), the Europarl-NER,
CoNLL and LAFAND-MT languages. NLLB-200 uses FLORES-200 codes (``swa`` is ``swh_Latn``); M2M100
uses ISO 639-1 codes; Marian/opus-mt models are one pair each and take no code (multi-target ones
take a ``>>xxx<<`` prefix, which :mod:`.hf` adds when the tokenizer has it).

>>> nllb_code("sw"), nllb_code("swa"), m2m100_code("deu"), iso639_3("de")
('swh_Latn', 'swh_Latn', 'de', 'deu')
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True, slots=True)
class Language:
    """One row of the table. ``flores``/``m2m100`` are ``None`` where the model lacks the language."""

    iso3: str
    iso1: str | None
    name: str
    flores: str | None
    m2m100: str | None


# (iso 639-3, iso 639-1, name, FLORES-200 code for NLLB, M2M100 code). Hand-written: no library
# in our dependencies ships this mapping (transformers only lists each model's own codes).
_ROWS: tuple[tuple[str, str | None, str, str | None, str | None], ...] = (
    # MasakhaNER 2.0
    ("bam", "bm", "Bambara", "bam_Latn", None),
    ("bbj", None, "Ghomala", None, None),
    ("ewe", "ee", "Ewe", "ewe_Latn", None),
    ("fon", None, "Fon", "fon_Latn", None),
    ("hau", "ha", "Hausa", "hau_Latn", "ha"),
    ("ibo", "ig", "Igbo", "ibo_Latn", "ig"),
    ("kin", "rw", "Kinyarwanda", "kin_Latn", None),
    ("lug", "lg", "Luganda", "lug_Latn", "lg"),
    ("luo", None, "Luo", "luo_Latn", None),
    ("mos", None, "Mossi", "mos_Latn", None),
    ("nya", "ny", "Chichewa", "nya_Latn", None),
    ("pcm", None, "Nigerian Pidgin", None, None),
    ("sna", "sn", "Shona", "sna_Latn", None),
    ("swa", "sw", "Swahili", "swh_Latn", "sw"),
    ("tsn", "tn", "Setswana", "tsn_Latn", "tn"),
    ("twi", "tw", "Twi", "twi_Latn", None),
    ("wol", "wo", "Wolof", "wol_Latn", "wo"),
    ("xho", "xh", "isiXhosa", "xho_Latn", "xh"),
    ("yor", "yo", "Yoruba", "yor_Latn", "yo"),
    ("zul", "zu", "isiZulu", "zul_Latn", "zu"),
    # LAFAND-MT extra
    ("amh", "am", "Amharic", "amh_Ethi", "am"),
    # XTREME PAN-X (40), Europarl-NER, CoNLL
    ("afr", "af", "Afrikaans", "afr_Latn", "af"),
    ("ara", "ar", "Arabic", "arb_Arab", "ar"),
    ("bul", "bg", "Bulgarian", "bul_Cyrl", "bg"),
    ("ben", "bn", "Bengali", "ben_Beng", "bn"),
    ("deu", "de", "German", "deu_Latn", "de"),
    ("ell", "el", "Greek", "ell_Grek", "el"),
    ("eng", "en", "English", "eng_Latn", "en"),
    ("spa", "es", "Spanish", "spa_Latn", "es"),
    ("est", "et", "Estonian", "est_Latn", "et"),
    ("eus", "eu", "Basque", "eus_Latn", None),
    ("fas", "fa", "Persian", "pes_Arab", "fa"),
    ("fin", "fi", "Finnish", "fin_Latn", "fi"),
    ("fra", "fr", "French", "fra_Latn", "fr"),
    ("heb", "he", "Hebrew", "heb_Hebr", "he"),
    ("hin", "hi", "Hindi", "hin_Deva", "hi"),
    ("hun", "hu", "Hungarian", "hun_Latn", "hu"),
    ("ind", "id", "Indonesian", "ind_Latn", "id"),
    ("ita", "it", "Italian", "ita_Latn", "it"),
    ("jpn", "ja", "Japanese", "jpn_Jpan", "ja"),
    ("jav", "jv", "Javanese", "jav_Latn", "jv"),
    ("kat", "ka", "Georgian", "kat_Geor", "ka"),
    ("kaz", "kk", "Kazakh", "kaz_Cyrl", "kk"),
    ("kor", "ko", "Korean", "kor_Hang", "ko"),
    ("mal", "ml", "Malayalam", "mal_Mlym", "ml"),
    ("mar", "mr", "Marathi", "mar_Deva", "mr"),
    ("msa", "ms", "Malay", "zsm_Latn", "ms"),
    ("mya", "my", "Burmese", "mya_Mymr", "my"),
    ("nld", "nl", "Dutch", "nld_Latn", "nl"),
    ("por", "pt", "Portuguese", "por_Latn", "pt"),
    ("rus", "ru", "Russian", "rus_Cyrl", "ru"),
    ("tam", "ta", "Tamil", "tam_Taml", "ta"),
    ("tel", "te", "Telugu", "tel_Telu", None),
    ("tha", "th", "Thai", "tha_Thai", "th"),
    ("tgl", "tl", "Tagalog", "tgl_Latn", "tl"),
    ("tur", "tr", "Turkish", "tur_Latn", "tr"),
    ("urd", "ur", "Urdu", "urd_Arab", "ur"),
    ("vie", "vi", "Vietnamese", "vie_Latn", "vi"),
    ("zho", "zh", "Chinese", "zho_Hans", "zh"),
)

LANGUAGES: dict[str, Language] = {r[0]: Language(*r) for r in _ROWS}
# Other spellings that mean a row: ISO 639-1, macrolanguage members, FLORES codes themselves.
_ALIASES: dict[str, str] = {}
for _lang in LANGUAGES.values():
    if _lang.iso1:
        _ALIASES[_lang.iso1] = _lang.iso3
    if _lang.flores:
        _ALIASES[_lang.flores.lower()] = _lang.iso3
_ALIASES.update({"swh": "swa", "arb": "ara", "pes": "fas", "zsm": "msa", "cmn": "zho"})


def iso639_3(code: str) -> str:
    """The ISO 639-3 code of ``code`` (639-1, 639-3, or a FLORES-200 code).

    Raises:
        ConfigError: unknown code; the message lists the nearest known codes.
    """
    key = code.strip().lower().replace("-", "_")
    if key in LANGUAGES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    known = sorted(set(LANGUAGES) | set(_ALIASES))
    close = difflib.get_close_matches(key, known, n=5, cutoff=0.5)
    hint = f" Nearest known codes: {', '.join(close)}." if close else ""
    raise ConfigError(
        f"Unknown language code {code!r}.{hint} Known: {', '.join(sorted(LANGUAGES))}"
    )


def language(code: str) -> Language:
    """The table row for ``code``."""
    return LANGUAGES[iso639_3(code)]


def nllb_code(code: str) -> str:
    """The FLORES-200 code NLLB-200 uses for ``code``.

    Raises:
        ConfigError: unknown code, or a language NLLB-200 does not cover (``pcm``, ``bbj``).
    """
    lang = language(code)
    if lang.flores is None:
        raise ConfigError(
            f"{lang.name} ({lang.iso3}) has no NLLB-200 (FLORES-200) code: NLLB was not trained on "
            "it. Use the 'parallel' backend with a human translation (e.g. LAFAND-MT), or another model."
        )
    return lang.flores


def m2m100_code(code: str) -> str:
    """The code M2M100 uses for ``code`` (ISO 639-1)."""
    lang = language(code)
    if lang.m2m100 is None:
        raise ConfigError(f"{lang.name} ({lang.iso3}) is not one of M2M100's 100 languages")
    return lang.m2m100


def backend_code(code: str, family: str) -> str:
    """The code of ``code`` for a model ``family``: ``nllb``, ``m2m100``, or ``iso`` (639-3)."""
    if family == "nllb":
        return nllb_code(code)
    if family == "m2m100":
        return m2m100_code(code)
    return iso639_3(code)
