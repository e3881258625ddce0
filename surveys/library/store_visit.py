"""Store or restaurant visit: loyalty, staff friendliness and why they came in."""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {
    "name": {
        "en": "Store or restaurant visit",
        "th": "การมาใช้บริการที่ร้านค้าหรือร้านอาหาร",
        "he": "ביקור בחנות או במסעדה",
        "ja": "店舗・レストラン来店後アンケート",
    },
    "description": {
        "en": "After a visit to a store or restaurant: loyalty, staff friendliness and the "
        "purpose of the visit.",
        "th": "หลังลูกค้ามาใช้บริการที่ร้านค้าหรือร้านอาหาร: ความภักดี "
        "ความเป็นมิตรของพนักงาน และวัตถุประสงค์ของการมาใช้บริการ",
        "he": "לאחר ביקור בחנות או במסעדה: נאמנות, אדיבות הצוות ומטרת הביקור.",
        "ja": "店舗やレストランへの来店後に送信します。推奨度、スタッフの対応、"
        "来店目的をお聞きします。",
    },
    "title": {
        "en": "How was your visit?",
        "th": "การมาใช้บริการของคุณเป็นอย่างไรบ้าง",
        "he": "איך היה הביקור?",
        "ja": "ご来店はいかがでしたか？",
    },
    "thank_you": {
        "en": "Thank you for visiting us. We hope to see you again soon!",
        "th": "ขอบคุณที่มาใช้บริการ หวังว่าจะได้พบคุณอีกเร็ว ๆ นี้!",
        "he": "תודה שביקרתם אצלנו. נשמח לראותכם שוב בקרוב!",
        "ja": "ご来店ありがとうございました。またのお越しをお待ちしております！",
    },
    "questions": [
        {
            "type": "nps",
            "text": {
                "en": "How likely are you to recommend us to a friend or colleague?",
                "th": "คุณมีแนวโน้มที่จะแนะนำเราให้เพื่อนหรือเพื่อนร่วมงานมากน้อยเพียงใด",
                "he": "עד כמה סביר שתמליצו עלינו לחבר או לעמית?",
                "ja": "友人や同僚に当店を薦める可能性はどのくらいありますか？",
            },
            "required": True,
            "settings": {
                "min_label": {
                    "en": "Not at all likely",
                    "th": "ไม่น่าจะแนะนำเลย",
                    "he": "בכלל לא סביר",
                    "ja": "まったく薦めない",
                },
                "max_label": {
                    "en": "Extremely likely",
                    "th": "น่าจะแนะนำอย่างแน่นอน",
                    "he": "סביר מאוד",
                    "ja": "ぜひ薦めたい",
                },
            },
        },
        {
            "type": "star",
            "text": {
                "en": "How would you rate the friendliness of our staff?",
                "th": "คุณให้คะแนนความเป็นมิตรของพนักงานเราเท่าไร",
                "he": "איך הייתם מדרגים את האדיבות של הצוות שלנו?",
                "ja": "スタッフの接客態度を評価してください。",
            },
            "required": True,
        },
        {
            "type": "multi_choice",
            "text": {
                "en": "What did you come in for today?",
                "th": "วันนี้คุณมาใช้บริการเพื่ออะไร",
                "he": "לשם מה הגעתם היום?",
                "ja": "本日のご来店の目的は何ですか？（複数選択可）",
            },
            "required": False,
            "choices": [
                {"en": "Shopping", "th": "ซื้อสินค้า", "he": "קניות", "ja": "お買い物"},
                {
                    "en": "Dining in",
                    "th": "รับประทานอาหารที่ร้าน",
                    "he": "ארוחה במקום",
                    "ja": "店内での食事",
                },
                {
                    "en": "Takeaway or order pickup",
                    "th": "ซื้อกลับบ้านหรือรับสินค้าที่สั่งไว้",
                    "he": "טייק אוויי או איסוף הזמנה",
                    "ja": "持ち帰り・注文品の受け取り",
                },
                {
                    "en": "Just browsing",
                    "th": "เดินดูสินค้า",
                    "he": "סתם להתרשם",
                    "ja": "商品を見るため",
                },
                {
                    "en": "Return or exchange",
                    "th": "คืนหรือเปลี่ยนสินค้า",
                    "he": "החזרה או החלפה",
                    "ja": "返品・交換",
                },
                {
                    "en": "Getting advice",
                    "th": "ขอคำแนะนำ",
                    "he": "קבלת ייעוץ",
                    "ja": "相談",
                },
            ],
        },
        {
            "type": "short_text",
            "text": {
                "en": "Which staff member helped you?",
                "th": "พนักงานคนใดให้บริการคุณ",
                "he": "מי מהצוות עזר לכם?",
                "ja": "担当したスタッフの名前がわかれば教えてください。",
            },
            "required": False,
        },
        {
            "type": "text",
            "text": {
                "en": "What could we have done better during your visit?",
                "th": "เราควรปรับปรุงอะไรเพื่อให้การมาใช้บริการของคุณดีขึ้น",
                "he": "מה יכולנו לעשות טוב יותר במהלך הביקור?",
                "ja": "ご来店時に、どのような点を改善すべきだったでしょうか？",
            },
            "required": False,
            "show_if": {"question": 0, "op": "lte", "value": 6},
        },
    ],
}
