"""The words core/display.py shows in en/zh/ro/th: well-known channel and category names, "(not set)",
percentage points and the unit words of durations and amounts. One table, read by every output
(CLI, reports, API), so a value reads the same everywhere; the config's [labels] names win over it."""
from __future__ import annotations

# dimension -> id -> language -> name (the sample generator's ids and most helpdesks'); a team has no
# well-known names: its ids are prettified ("technical" -> "Technical", never "Technical issue")
KNOWN = {
    "channel": {
        "email": {"en": "Email", "zh": "电子邮件", "ro": "E-mail", "th": "อีเมล"},
        "chat": {"en": "Chat", "zh": "在线聊天", "ro": "Chat", "th": "แชท"},
        "phone": {"en": "Phone", "zh": "电话", "ro": "Telefon", "th": "โทรศัพท์"},
        "social": {"en": "Social media", "zh": "社交媒体", "ro": "Rețele sociale", "th": "โซเชียลมีเดีย"},
        "web_form": {"en": "Web form", "zh": "网页表单", "ro": "Formular web", "th": "แบบฟอร์มบนเว็บ"},
        "sms": {"en": "SMS", "zh": "短信", "ro": "SMS", "th": "SMS"},
        "web": {"en": "Web", "zh": "网页", "ro": "Web", "th": "เว็บ"},
        "app": {"en": "App", "zh": "应用", "ro": "Aplicație", "th": "แอป"},
    },
    "category": {
        "sales_question": {"en": "Sales question", "zh": "销售咨询", "ro": "Întrebare de vânzări",
                           "th": "สอบถามการขาย"},
        "technical": {"en": "Technical issue", "zh": "技术问题", "ro": "Problemă tehnică", "th": "ปัญหาทางเทคนิค"},
        "cancellation": {"en": "Cancellation", "zh": "取消", "ro": "Anulare", "th": "การยกเลิก"},
        "return": {"en": "Return", "zh": "退货", "ro": "Retur", "th": "การคืนสินค้า"},
        "shipping": {"en": "Shipping", "zh": "配送", "ro": "Livrare", "th": "การจัดส่ง"},
        "product_availability": {"en": "Product availability", "zh": "产品供应情况",
                                 "ro": "Disponibilitatea produselor", "th": "ความพร้อมของสินค้า"},
        "complaint": {"en": "Complaint", "zh": "投诉", "ro": "Reclamație", "th": "ข้อร้องเรียน"},
    },
}
NOT_SET = {"en": "(not set)", "zh": "（未设置）", "ro": "(nespecificat)", "th": "(ไม่ระบุ)"}
# a change of a percentage, in percentage points
POINTS_CHANGE = {"en": "{number} pp", "zh": "{number} 个百分点", "ro": "{number} p.p.",
                 "th": "{number} จุดเปอร์เซ็นต์"}
# the unit column of a duration KPI (its values read "1 h 25 min") and of an amount without a currency
DURATION = {"en": "duration", "zh": "时长", "ro": "durată", "th": "ระยะเวลา"}
AMOUNT = {"en": "amount (no currency set)", "zh": "金额（未设置货币）", "ro": "sumă (fără monedă setată)",
          "th": "จำนวนเงิน (ไม่ได้ตั้งสกุลเงิน)"}
