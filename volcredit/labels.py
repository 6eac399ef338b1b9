"""Chinese labels for stored codes, shared by the site and the portal (one place, STYLE 6)."""

from __future__ import annotations

BASIS = {"name_keyword": "名称和章程直接认定", "charter_verified": "申请认定，章程已核实"}
HONOUR_KINDS = {
    "commendation": "表彰",
    "reward": "奖励",
    "five_star": "五星级志愿者",
    "other": "其他良好信息",
}
CATEGORIES = {  # BJ-9
    1: "未经同意公开志愿者或服务对象信息",
    2: "向服务对象收取费用",
    3: "未按规定记录服务信息或出具记录证明",
    4: "以志愿服务名义进行营利活动",
    5: "伪造、篡改或使用虚假志愿服务记录",
}
LEVELS = {"province": "省级", "city": "市级", "county": "县级"}
ID_TYPES = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "foreign_permanent_residence": "外国人永久居留身份证",
}
GENDERS = {"male": "男", "female": "女"}
ORGANISATION_KINDS = {
    "social_group": "社会团体",
    "social_service_agency": "社会服务机构",
    "foundation": "基金会",
    "public_institution": "事业单位",
    "government": "机关",
    "grassroots_autonomy": "基层群众性自治组织",
    "community_team": "社区志愿服务队",
    "unit_internal_team": "单位内部志愿服务队",
}


def label_functions() -> dict[str, object]:
    """Template globals turning codes into labels."""
    return {
        "basis_label": lambda b: BASIS.get(b, b),
        "honour_kind_label": lambda k: HONOUR_KINDS.get(k, k),
        "category_label": lambda c: f"第{c}类：{CATEGORIES.get(c, '')}",
        "level_label": lambda lv: LEVELS.get(lv, lv),
        "id_type_label": lambda t: ID_TYPES.get(t, t),
        "gender_label": lambda g: GENDERS.get(g, g),
        "organisation_kind_label": lambda k: ORGANISATION_KINDS.get(k, k),
    }
