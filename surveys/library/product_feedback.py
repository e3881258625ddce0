"""Product feedback: satisfaction by product area, feature requests, beta testers."""

from __future__ import annotations

from typing import Any

TEMPLATE: dict[str, Any] = {
    "name": {
        "en": "Product feedback",
        "th": "ความคิดเห็นเกี่ยวกับผลิตภัณฑ์",
        "he": "משוב על המוצר",
        "ja": "製品フィードバック",
    },
    "description": {
        "en": "Measure satisfaction by product area, collect feature requests and recruit "
        "beta testers.",
        "th": "วัดความพึงพอใจแยกตามส่วนของผลิตภัณฑ์ รวบรวมฟีเจอร์ที่ผู้ใช้ต้องการ และหาผู้ร่วมทดสอบเวอร์ชันเบต้า",
        "he": "מדידת שביעות רצון לפי תחום במוצר, איסוף בקשות ליכולות חדשות וגיוס בודקי בטא.",
        "ja": "製品の領域ごとの満足度を把握し、機能の要望を集め、ベータテスターを募ります。",
    },
    "title": {
        "en": "Help us improve our product",
        "th": "ช่วยเราพัฒนาผลิตภัณฑ์ให้ดียิ่งขึ้น",
        "he": "עזרו לנו לשפר את המוצר",
        "ja": "製品の改善にご協力ください",
    },
    "thank_you": {
        "en": "Thank you! Your ideas help shape what we build next.",
        "th": "ขอบคุณ! ความคิดของคุณช่วยกำหนดทิศทางของสิ่งที่เราจะพัฒนาต่อไป",
        "he": "תודה! הרעיונות שלכם עוזרים לנו להחליט מה לפתח בהמשך.",
        "ja": "ありがとうございました！いただいたアイデアは今後の開発に活かしてまいります。",
    },
    "questions": [
        {
            "type": "single_choice",
            "text": {
                "en": "Which part of the product do you use most?",
                "th": "คุณใช้งานส่วนใดของผลิตภัณฑ์มากที่สุด",
                "he": "באיזה חלק של המוצר אתם משתמשים הכי הרבה?",
                "ja": "製品のどの部分を最もよく使いますか？",
            },
            "required": True,
            "choices": [
                {"en": "Dashboard", "th": "แดชบอร์ด", "he": "לוח הבקרה", "ja": "ダッシュボード"},
                {
                    "en": "Reports and analytics",
                    "th": "รายงานและการวิเคราะห์",
                    "he": "דוחות וניתוחים",
                    "ja": "レポート・分析",
                },
                {
                    "en": "Mobile app",
                    "th": "แอปบนมือถือ",
                    "he": "האפליקציה לנייד",
                    "ja": "モバイルアプリ",
                },
                {
                    "en": "Integrations",
                    "th": "การเชื่อมต่อกับระบบอื่น",
                    "he": "אינטגרציות",
                    "ja": "外部サービスとの連携",
                },
                {
                    "en": "Settings and administration",
                    "th": "การตั้งค่าและการดูแลระบบ",
                    "he": "הגדרות וניהול",
                    "ja": "設定・管理",
                },
            ],
        },
        {
            "type": "rating",
            "text": {
                "en": "How satisfied are you with this part of the product?",
                "th": "คุณพึงพอใจกับส่วนนี้ของผลิตภัณฑ์มากน้อยเพียงใด",
                "he": "עד כמה אתם מרוצים מהחלק הזה של המוצר?",
                "ja": "その部分にどの程度満足していますか？",
            },
            "required": True,
            "settings": {
                "min": 1,
                "max": 5,
                "min_label": {
                    "en": "Very unsatisfied",
                    "th": "ไม่พึงพอใจอย่างมาก",
                    "he": "לא מרוצים בכלל",
                    "ja": "とても不満",
                },
                "max_label": {
                    "en": "Very satisfied",
                    "th": "พึงพอใจอย่างมาก",
                    "he": "מרוצים מאוד",
                    "ja": "とても満足",
                },
            },
        },
        {
            "type": "multi_choice",
            "text": {
                "en": "Which features are we missing?",
                "th": "คุณอยากให้เรามีฟีเจอร์ใดเพิ่มเติม",
                "he": "אילו יכולות חסרות לכם?",
                "ja": "不足していると感じる機能はどれですか？（複数選択可）",
            },
            "required": False,
            "choices": [
                {
                    "en": "Better search",
                    "th": "การค้นหาที่ดีขึ้น",
                    "he": "חיפוש משופר",
                    "ja": "検索機能の強化",
                },
                {
                    "en": "More customization",
                    "th": "ปรับแต่งได้มากขึ้น",
                    "he": "יותר אפשרויות התאמה אישית",
                    "ja": "カスタマイズ性の向上",
                },
                {
                    "en": "Data export",
                    "th": "การส่งออกข้อมูล",
                    "he": "ייצוא נתונים",
                    "ja": "データのエクスポート",
                },
                {
                    "en": "Offline mode",
                    "th": "โหมดออฟไลน์",
                    "he": "מצב לא מקוון",
                    "ja": "オフラインモード",
                },
                {
                    "en": "Team collaboration",
                    "th": "การทำงานร่วมกันเป็นทีม",
                    "he": "עבודת צוות משותפת",
                    "ja": "チームでの共同作業",
                },
                {
                    "en": "More integrations",
                    "th": "การเชื่อมต่อกับระบบอื่นเพิ่มเติม",
                    "he": "אינטגרציות נוספות",
                    "ja": "外部連携の拡充",
                },
            ],
            "settings": {"other": True},
        },
        {
            "type": "yes_no",
            "text": {
                "en": "Would you like to join our beta tests?",
                "th": "คุณต้องการเข้าร่วมการทดสอบเวอร์ชันเบต้าของเราหรือไม่",
                "he": "האם תרצו להצטרף לבדיקות הבטא שלנו?",
                "ja": "ベータテストへの参加を希望しますか？",
            },
            "required": True,
        },
        {
            "type": "text",
            "text": {
                "en": "Anything else you would like to tell us?",
                "th": "มีอะไรเพิ่มเติมที่คุณอยากบอกเราหรือไม่",
                "he": "יש עוד משהו שתרצו לספר לנו?",
                "ja": "その他、ご意見があればお聞かせください。",
            },
            "required": False,
        },
    ],
}
