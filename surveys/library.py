"""Templates staff start a survey from: every text in English, Thai, Hebrew and Japanese."""

from __future__ import annotations

from typing import Any

# show_if refers to an earlier question of the same template by its index in "questions";
# "value" is a number for scored and yes/no questions (yes=1, no=0), or a list of choice
# indexes for choice questions (op "in").
LIBRARY: dict[str, dict[str, Any]] = {
    "nps": {
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
            "ja": "0〜10の推奨度で顧客ロイヤルティを測定し、"
            "批判者にはフォローアップの質問をします。",
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
    },
    "csat": {
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
    },
    "post_purchase": {
        "name": {
            "en": "Post-purchase",
            "th": "หลังการสั่งซื้อ",
            "he": "לאחר רכישה",
            "ja": "購入後アンケート",
        },
        "description": {
            "en": "Sent after an order: purchase experience, how customers found you, and "
            "delivery.",
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
    },
    "post_support": {
        "name": {
            "en": "After a support ticket",
            "th": "หลังปิดเรื่องที่แจ้งฝ่ายบริการลูกค้า",
            "he": "לאחר סגירת פנייה לתמיכה",
            "ja": "サポート対応後アンケート",
        },
        "description": {
            "en": "Sent when a support ticket closes: satisfaction, resolution and customer "
            "effort.",
            "th": "ส่งเมื่อปิดเรื่องที่แจ้งฝ่ายบริการลูกค้า: ความพึงพอใจ การแก้ไขปัญหา "
            "และความง่ายในการขอรับความช่วยเหลือ",
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
    },
    "store_visit": {
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
    },
    "product_feedback": {
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
    },
}
