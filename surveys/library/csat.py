"""Customer satisfaction (CSAT): a quick check that asks what to improve on a low score."""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {
    "name": {
        "en": "Customer satisfaction (CSAT)",
        "th": "ความพึงพอใจของลูกค้า (CSAT)",
        "he": "שביעות רצון לקוחות (CSAT)",
        "ja": "顧客満足度（CSAT）",
    },
    "description": {
        "en": "A quick satisfaction check that asks for improvements when the score is low.",
        "th": "สำรวจความพึงพอใจอย่างรวดเร็ว และสอบถามสิ่งที่ควรปรับปรุงเมื่อได้คะแนนต่ำ",
        "he": "בדיקת שביעות רצון מהירה, עם בקשה להצעות לשיפור כשהציון נמוך.",
        "ja": "手軽に満足度を確認し、評価が低い場合は改善点をお聞きします。",
    },
    "title": {
        "en": "Tell us about your experience",
        "th": "บอกเราเกี่ยวกับประสบการณ์ของคุณ",
        "he": "ספרו לנו על החוויה שלכם",
        "ja": "ご利用の感想をお聞かせください",
    },
    "thank_you": {
        "en": "Thank you for your feedback!",
        "th": "ขอบคุณสำหรับความคิดเห็นของคุณ!",
        "he": "תודה על המשוב!",
        "ja": "ご意見をお寄せいただき、ありがとうございました！",
    },
    "questions": [
        {
            "type": "csat",
            "text": {
                "en": "Overall, how satisfied are you with our service?",
                "th": "โดยรวมแล้ว คุณพึงพอใจกับบริการของเรามากน้อยเพียงใด",
                "he": "באופן כללי, עד כמה אתם מרוצים מהשירות שלנו?",
                "ja": "当社のサービスに総合的にどの程度満足していますか？",
            },
            "required": True,
        },
        {
            "type": "text",
            "text": {
                "en": "What could we do better?",
                "th": "เราควรปรับปรุงอะไรให้ดีขึ้นบ้าง",
                "he": "מה נוכל לעשות טוב יותר?",
                "ja": "どのような点を改善すればよいでしょうか？",
            },
            "required": False,
            "show_if": {"question": 0, "op": "lte", "value": 3},
        },
    ],
}
