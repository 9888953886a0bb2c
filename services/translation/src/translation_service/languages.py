"""Language codes: the API speaks ISO 639-1 (`de`), multilingual models their own codes.

NLLB-200 uses FLORES-200 codes (`deu_Latn`), M2M100 ISO codes in `__de__` tokens, MADLAD-400
`<2de>` prefixes, multi-target MarianMT `>>de<<` prefixes.
"""

from __future__ import annotations

import re

# ISO 639-1 -> (English name, FLORES-200 code used by NLLB-200)
LANGUAGES: dict[str, tuple[str, str]] = {
    "af": ("Afrikaans", "afr_Latn"), "am": ("Amharic", "amh_Ethi"), "ar": ("Arabic", "arb_Arab"),
    "az": ("Azerbaijani", "azj_Latn"), "be": ("Belarusian", "bel_Cyrl"), "bg": ("Bulgarian", "bul_Cyrl"),
    "bn": ("Bengali", "ben_Beng"), "bs": ("Bosnian", "bos_Latn"), "ca": ("Catalan", "cat_Latn"),
    "cs": ("Czech", "ces_Latn"), "cy": ("Welsh", "cym_Latn"), "da": ("Danish", "dan_Latn"),
    "de": ("German", "deu_Latn"), "el": ("Greek", "ell_Grek"), "en": ("English", "eng_Latn"),
    "eo": ("Esperanto", "epo_Latn"), "es": ("Spanish", "spa_Latn"), "et": ("Estonian", "est_Latn"),
    "eu": ("Basque", "eus_Latn"), "fa": ("Persian", "pes_Arab"), "fi": ("Finnish", "fin_Latn"),
    "fr": ("French", "fra_Latn"), "ga": ("Irish", "gle_Latn"), "gl": ("Galician", "glg_Latn"),
    "gu": ("Gujarati", "guj_Gujr"), "he": ("Hebrew", "heb_Hebr"), "hi": ("Hindi", "hin_Deva"),
    "hr": ("Croatian", "hrv_Latn"), "hu": ("Hungarian", "hun_Latn"), "hy": ("Armenian", "hye_Armn"),
    "id": ("Indonesian", "ind_Latn"), "is": ("Icelandic", "isl_Latn"), "it": ("Italian", "ita_Latn"),
    "ja": ("Japanese", "jpn_Jpan"), "ka": ("Georgian", "kat_Geor"), "kk": ("Kazakh", "kaz_Cyrl"),
    "km": ("Khmer", "khm_Khmr"), "kn": ("Kannada", "kan_Knda"), "ko": ("Korean", "kor_Hang"),
    "lt": ("Lithuanian", "lit_Latn"), "lv": ("Latvian", "lvs_Latn"), "mk": ("Macedonian", "mkd_Cyrl"),
    "ml": ("Malayalam", "mal_Mlym"), "mn": ("Mongolian", "khk_Cyrl"), "mr": ("Marathi", "mar_Deva"),
    "ms": ("Malay", "zsm_Latn"), "mt": ("Maltese", "mlt_Latn"), "my": ("Burmese", "mya_Mymr"),
    "ne": ("Nepali", "npi_Deva"), "nl": ("Dutch", "nld_Latn"), "no": ("Norwegian", "nob_Latn"),
    "pa": ("Punjabi", "pan_Guru"), "pl": ("Polish", "pol_Latn"), "pt": ("Portuguese", "por_Latn"),
    "ro": ("Romanian", "ron_Latn"), "ru": ("Russian", "rus_Cyrl"), "sk": ("Slovak", "slk_Latn"),
    "sl": ("Slovenian", "slv_Latn"), "sq": ("Albanian", "als_Latn"), "sr": ("Serbian", "srp_Cyrl"),
    "sv": ("Swedish", "swe_Latn"), "sw": ("Swahili", "swh_Latn"), "ta": ("Tamil", "tam_Taml"),
    "te": ("Telugu", "tel_Telu"), "th": ("Thai", "tha_Thai"), "tl": ("Tagalog", "tgl_Latn"),
    "tr": ("Turkish", "tur_Latn"), "uk": ("Ukrainian", "ukr_Cyrl"), "ur": ("Urdu", "urd_Arab"),
    "uz": ("Uzbek", "uzn_Latn"), "vi": ("Vietnamese", "vie_Latn"), "zh": ("Chinese", "zho_Hans"),
    "zu": ("Zulu", "zul_Latn"),
}
FLORES_TO_ISO = {flores: iso for iso, (_name, flores) in LANGUAGES.items()}
_ISO = re.compile(r"^[a-z]{2}$")


def normalize(code: str) -> str:
    """`DE`, `de-DE`, `de_AT` -> `de`; anything else is returned lower-cased for the caller to refuse."""
    code = code.strip().lower().replace("_", "-")
    base = code.split("-", 1)[0]
    return base if _ISO.match(base) else code


def name_of(code: str) -> str:
    return LANGUAGES.get(code, (code, ""))[0]


def nllb_code(code: str) -> str | None:
    entry = LANGUAGES.get(code)
    return entry[1] if entry else None
