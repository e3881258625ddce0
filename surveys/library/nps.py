"""Net Promoter Score: the 0–10 recommendation question, and a follow-up for detractors."""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {
    "name": {
        "en": "Net Promoter Score",
        "th": "คะแนนความภักดีของลูกค้า (NPS)",
        "he": "מדד נאמנות לקוחות (NPS)",
        "ja": "ネット・プロモーター・スコア（NPS）",
    },
    "description": {
        "en": "Measure loyalty with the 0–10 recommendation question and follow up with "
        "detractors.",
        "th": "วัดความภักดีของลูกค้าด้วยคำถามการแนะนำแบบ 0–10 พร้อมคำถามติดตามสำหรับผู้ที่ให้คะแนนต่ำ",
        "he": "מדידת נאמנות הלקוחות בשאלת ההמלצה (0–10), עם שאלת המשך למי שנתנו ציון נמוך.",
        "ja": "0〜10の推奨度で顧客ロイヤルティを測定し、批判者にはフォローアップの質問をします。",
    },
    "title": {
        "en": "How are we doing?",
        "th": "เราทำได้ดีแค่ไหน",
        "he": "מה דעתכם עלינו?",
        "ja": "私たちのサービスはいかがですか？",
    },
    "thank_you": {
        "en": "Thank you! Your feedback helps us improve.",
        "th": "ขอบคุณ! ความคิดเห็นของคุณช่วยให้เราพัฒนาได้ดียิ่งขึ้น",
        "he": "תודה רבה! המשוב שלכם עוזר לנו להשתפר.",
        "ja": "ありがとうございました！いただいたご意見はサービスの向上に役立てます。",
    },
    "questions": [
        {
            "type": "nps",
            "text": {
                "en": "How likely are you to recommend us to a friend or colleague?",
                "th": "คุณมีแนวโน้มที่จะแนะนำเราให้เพื่อนหรือเพื่อนร่วมงานมากน้อยเพียงใด",
                "he": "עד כמה סביר שתמליצו עלינו לחבר או לעמית?",
                "ja": "友人や同僚に当社を薦める可能性はどのくらいありますか？",
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
            "type": "text",
            "text": {
                "en": "What is the main reason for your score?",
                "th": "เหตุผลหลักที่คุณให้คะแนนนี้คืออะไร",
                "he": "מה הסיבה העיקרית לציון שנתתם?",
                "ja": "そのスコアをつけた一番の理由は何ですか？",
            },
            "required": False,
        },
        {
            "type": "text",
            "text": {
                "en": "What went wrong, and how could we make it right?",
                "th": "เกิดปัญหาอะไรขึ้น และเราจะแก้ไขให้ดีขึ้นได้อย่างไร",
                "he": "מה השתבש, ואיך נוכל לתקן זאת?",
                "ja": "どのような問題がありましたか？また、どうすれば改善できるでしょうか？",
            },
            "required": False,
            "show_if": {"question": 0, "op": "lte", "value": 6},
        },
    ],
}
