"""Short stop-word lists, curated for this project (no outside source, so no licence
terms beyond the project's own): the function words that would otherwise top every list
of terms. Thai stop words come from PyThaiNLP's bundled corpus (Apache-2.0), see
insights/text/tokenize.py."""

from __future__ import annotations

_ENGLISH = """
a about after again all also am an and any are as at be because been before being but by
can could did do does doing done don't for from get got had has have having he her here
him his how i i'm if in into is it it's its just me more most my no not now of off on
once only or other our out over so some such than that the their them then there these
they this those to too under until up us very was we were what when where which while who
why will with would you your really much many well still even ok okay
"""
_HEBREW = """
של את על עם זה זו זאת הוא היא הם הן אני אתה את אנחנו אתם לא כן גם אבל או כי אם מה מי
איך כל יש אין היה הייתה היו להיות רק עוד כבר מאוד אחד אחת שלי שלו שלה שלנו לי לו לה לנו
אותו אותה אותם כמו אז פה שם הזה הזאת האלה אלה יותר פחות
"""
_JAPANESE = """
する いる ある なる れる られる せる させる ない こと もの よう これ それ あれ ここ そこ
そう どう 思う いう 言う くる 来る できる 出来る ため ところ とき 時 方 感じ
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "other": frozenset(_ENGLISH.split()) | frozenset(_HEBREW.split()),
    "ja": frozenset(_JAPANESE.split()),
}
