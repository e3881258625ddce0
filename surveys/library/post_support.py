"""After a support ticket: satisfaction, resolution and customer effort."""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {
    "name": {
        "en": "After a support ticket",
        "th": "หลังปิดเรื่องที่แจ้งฝ่ายบริการลูกค้า",
        "he": "לאחר סגירת פנייה לתמיכה",
        "ja": "サポート対応後アンケート",
    },
    "description": {
        "en": "Sent when a support ticket closes: satisfaction, resolution and customer effort.",
        "th": "ส่งเมื่อปิดเรื่องที่แจ้งฝ่ายบริการลูกค้า: ความพึงพอใจ การแก้ไขปัญหา และความง่ายในการขอรับความช่วยเหลือ",
        "he": "נשלח עם סגירת פנייה לתמיכה: שביעות רצון, פתרון הבעיה ומאמץ הלקוח.",
        "ja": "サポートチケットのクローズ時に送信します。満足度、問題解決の有無、"
        "顧客努力指標をお聞きします。",
    },
    "title": {
        "en": "How did we do?",
        "th": "เราช่วยเหลือคุณได้ดีแค่ไหน",
        "he": "איך טיפלנו בפנייה שלכם?",
        "ja": "サポートはいかがでしたか？",
    },
    "thank_you": {
        "en": "Thank you! We read every response to improve our support.",
        "th": "ขอบคุณ! เราอ่านทุกคำตอบเพื่อนำไปพัฒนาการให้บริการของเรา",
        "he": "תודה! אנחנו קוראים כל תשובה כדי לשפר את התמיכה שלנו.",
        "ja": "ありがとうございました！いただいたご回答はすべて拝見し、"
        "サポートの改善に役立てます。",
    },
    "questions": [
        {
            "type": "csat",
            "text": {
                "en": "How satisfied are you with the support you received?",
                "th": "คุณพึงพอใจกับความช่วยเหลือที่ได้รับมากน้อยเพียงใด",
                "he": "עד כמה אתם מרוצים מהתמיכה שקיבלתם?",
                "ja": "今回のサポートにどの程度満足していますか？",
            },
            "required": True,
        },
        {
            "type": "yes_no",
            "text": {
                "en": "Was your issue resolved?",
                "th": "ปัญหาของคุณได้รับการแก้ไขหรือไม่",
                "he": "האם הבעיה נפתרה?",
                "ja": "問題は解決しましたか？",
            },
            "required": True,
        },
        {
            "type": "rating",
            "text": {
                "en": "How easy was it to get help?",
                "th": "การขอรับความช่วยเหลือง่ายเพียงใด",
                "he": "עד כמה היה קל לקבל עזרה?",
                "ja": "サポートを受けるのはどのくらい簡単でしたか？",
            },
            "required": True,
            "settings": {
                "min": 1,
                "max": 7,
                "min_label": {
                    "en": "Very difficult",
                    "th": "ยากมาก",
                    "he": "קשה מאוד",
                    "ja": "とても難しい",
                },
                "max_label": {
                    "en": "Very easy",
                    "th": "ง่ายมาก",
                    "he": "קל מאוד",
                    "ja": "とても簡単",
                },
            },
        },
        {
            "type": "text",
            "text": {
                "en": "What is still unresolved, and how can we help?",
                "th": "ยังมีปัญหาใดที่ยังไม่ได้รับการแก้ไข และเราจะช่วยคุณได้อย่างไร",
                "he": "מה עדיין לא נפתר, ואיך נוכל לעזור?",
                "ja": "解決していない点と、私たちにできることを教えてください。",
            },
            "required": False,
            "show_if": {"question": 1, "op": "eq", "value": 0},
        },
    ],
}
