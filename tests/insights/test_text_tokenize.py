"""The tokenizer behind the top terms: Thai and Japanese, written without spaces, are cut
into words; English and Hebrew by letters; function words are left out."""

from __future__ import annotations

from insights.text.tokenize import terms


def test_thai_is_cut_into_words_without_its_stop_words():
    assert terms("กาแฟอร่อยมากแต่พนักงานช้า") == ["กาแฟ", "อร่อย", "พนักงาน", "ช้า"]


def test_japanese_keeps_nouns_verbs_and_adjectives_in_their_dictionary_form():
    found = terms("コーヒーがとても美味しかったです。店員さんは親切でした。")
    assert found == ["コーヒー", "美味しい", "店員", "親切"]


def test_english_is_case_folded_and_function_words_dropped():
    assert terms("The Coffee was COLD, and the staff were friendly!") == [
        "coffee",
        "cold",
        "staff",
        "friendly",
    ]


def test_hebrew_is_split_by_words_and_its_function_words_dropped():
    assert terms("הקפה היה קר מאוד אבל טעים") == ["הקפה", "קר", "טעים"]


def test_a_mixed_answer_cuts_each_script_with_its_own_tokenizer():
    assert terms("latte กาแฟ コーヒー 42") == ["latte", "กาแฟ", "コーヒー"]


def test_markup_and_digits_are_not_terms():
    assert terms("<b>1234</b>") == []
