"""Post-purchase: the purchase experience, how customers found you, and delivery."""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {
    "name": {
        "en": "Post-purchase",
        "th": "หลังการสั่งซื้อ",
        "he": "לאחר רכישה",
        "ja": "購入後アンケート",
    },
    "description": {
        "en": "Sent after an order: purchase experience, how customers found you, and delivery.",
        "th": "ส่งหลังการสั่งซื้อ: ประสบการณ์การซื้อ ช่องทางที่ลูกค้ารู้จักเรา และการจัดส่ง",
        "he": "נשלח לאחר הזמנה: חוויית הרכישה, איך הלקוחות שמעו עלינו, והמשלוח.",
        "ja": "注文後に送信します。購入体験、当社を知ったきっかけ、配送についてお聞きします。",
    },
    "title": {
        "en": "How was your purchase?",
        "th": "การสั่งซื้อของคุณเป็นอย่างไรบ้าง",
        "he": "איך הייתה חוויית הרכישה?",
        "ja": "お買い物はいかがでしたか？",
    },
    "thank_you": {
        "en": "Thank you for shopping with us and for sharing your feedback!",
        "th": "ขอบคุณที่เลือกซื้อสินค้ากับเราและแบ่งปันความคิดเห็น!",
        "he": "תודה שקניתם אצלנו ושיתפתם אותנו במשוב!",
        "ja": "ご購入いただき、またご意見をお寄せいただき、ありがとうございました！",
    },
    "questions": [
        {
            "type": "star",
            "text": {
                "en": "How would you rate your purchase experience?",
                "th": "คุณให้คะแนนประสบการณ์การซื้อครั้งนี้เท่าไร",
                "he": "איך הייתם מדרגים את חוויית הרכישה?",
                "ja": "今回のお買い物の体験を評価してください。",
            },
            "required": True,
        },
        {
            "type": "single_choice",
            "text": {
                "en": "How did you hear about us?",
                "th": "คุณรู้จักเราจากช่องทางใด",
                "he": "איך שמעתם עלינו?",
                "ja": "当社を何でお知りになりましたか？",
            },
            "required": True,
            "choices": [
                {
                    "en": "Search engine",
                    "th": "เครื่องมือค้นหา",
                    "he": "מנוע חיפוש",
                    "ja": "検索エンジン",
                },
                {"en": "Social media", "th": "โซเชียลมีเดีย", "he": "רשתות חברתיות", "ja": "SNS"},
                {
                    "en": "Friends or family",
                    "th": "เพื่อนหรือครอบครัว",
                    "he": "חברים או משפחה",
                    "ja": "友人・家族",
                },
                {"en": "Advertisement", "th": "โฆษณา", "he": "פרסומת", "ja": "広告"},
                {"en": "In a store", "th": "ที่หน้าร้าน", "he": "בחנות", "ja": "店舗"},
                {"en": "Other", "th": "อื่น ๆ", "he": "אחר", "ja": "その他"},
            ],
        },
        {
            "type": "multi_choice",
            "text": {
                "en": "What mattered most to you?",
                "th": "อะไรสำคัญที่สุดสำหรับคุณ",
                "he": "מה היה הכי חשוב לכם?",
                "ja": "特に重視した点は何ですか？（複数選択可）",
            },
            "required": False,
            "choices": [
                {"en": "Price", "th": "ราคา", "he": "מחיר", "ja": "価格"},
                {
                    "en": "Product quality",
                    "th": "คุณภาพสินค้า",
                    "he": "איכות המוצר",
                    "ja": "商品の品質",
                },
                {
                    "en": "Product range",
                    "th": "ความหลากหลายของสินค้า",
                    "he": "מגוון המוצרים",
                    "ja": "品揃え",
                },
                {
                    "en": "Fast delivery",
                    "th": "การจัดส่งที่รวดเร็ว",
                    "he": "משלוח מהיר",
                    "ja": "配送の速さ",
                },
                {
                    "en": "Easy checkout",
                    "th": "ขั้นตอนการชำระเงินที่ง่าย",
                    "he": "תהליך תשלום פשוט",
                    "ja": "購入手続きの簡単さ",
                },
                {
                    "en": "Customer service",
                    "th": "การบริการลูกค้า",
                    "he": "שירות לקוחות",
                    "ja": "カスタマーサービス",
                },
            ],
            "settings": {"other": True},
        },
        {
            "type": "yes_no",
            "text": {
                "en": "Did your order arrive on time?",
                "th": "คำสั่งซื้อของคุณมาถึงตรงเวลาหรือไม่",
                "he": "האם ההזמנה הגיעה בזמן?",
                "ja": "ご注文の商品は予定どおりに届きましたか？",
            },
            "required": True,
        },
        {
            "type": "text",
            "text": {
                "en": "What happened with your delivery?",
                "th": "เกิดอะไรขึ้นกับการจัดส่งของคุณ",
                "he": "מה קרה עם המשלוח?",
                "ja": "配送で何があったのか教えてください。",
            },
            "required": False,
            "show_if": {"question": 3, "op": "eq", "value": 0},
        },
    ],
}
