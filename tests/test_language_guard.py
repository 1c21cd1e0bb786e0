"""Messages in other languages are recognised; English as people really type it is not."""

from __future__ import annotations

import pytest

from bot.nlu.language_guard import english_frequencies, is_other_language, words_of


@pytest.fixture(scope="module")
def english():
    # What training adds from our own data: app names and text-speak people use here.
    own = {word: -9.0 for word in words_of("roblox discord tiktok snapchat sextorted fortnite grommed insta")}
    return {**english_frequencies(), **own}


@pytest.mark.parametrize(
    "text",
    [
        "Comment parler à mon enfant des dangers d'internet ?",
        "¿Cómo hablo con mi hija sobre los peligros de internet?",
        "Wie spreche ich mit meinem Sohn über Sicherheit im Netz",
        "Mój syn rozmawia z obcym mężczyzną w internecie",
        "o meu filho tem medo de um homem",
        "мой сын в опасности",
        "我的孩子在网上有危险",
        "ابني في خطر",
    ],
)
def test_other_languages_are_recognised(english, text):
    assert is_other_language(text, english)


@pytest.mark.parametrize(
    "text",
    [
        "my 14 yo is meeting sum1 from tiktok 2nite",
        "wat shud i do my dotter sent pics to a boy on snap",
        "grooming signs roblox discord",
        "my son is being sextorted on insta",
        "hi",
        "qwertyuiop",
        "ok thx",
        "<b>bold</b><script>1</script>",
        "Café owner here, my niece is being groomed online",
    ],
)
def test_english_however_typed_is_not_flagged(english, text):
    assert not is_other_language(text, english)
