"""Masking for text that is *published* (the /public page, Open311 ``description``): whatever
could point at a person goes, not just the middle digits that ``privacy.mask_personal_data``
hides from staff.

Why hand-written rules: the maintained PII libraries were checked first. Presidio's recognisers
for Chinese need a spaCy ``zh`` model fetched from a model hub at install time (not possible
here), and its pattern recognisers know US/EU formats, not 身份证 or 门牌; jieba's ``nr`` tag
marks any word that *can* be a name (高明, 文明) and still misses the given name after "我叫"
in short messages. What citizens write is narrow enough for rules: numbers have fixed shapes,
and names and house numbers come with cue words (我叫, 先生, 号楼, 单元). The rules err on the
side of masking: a word too many hidden costs a little readability, a name too few is a leak.

Masks are fixed words, not partial numbers: ``【电话】``, ``【身份证号】``, ``【号码】``,
``【邮箱】``, ``【车牌】``, ``【门牌】``, and names become 某某 (张先生 → 某先生), as Chinese
public notices write them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

PHONE: Final = "【电话】"
ID_CARD: Final = "【身份证号】"
NUMBER: Final = "【号码】"
EMAIL: Final = "【邮箱】"
PLATE: Final = "【车牌】"
HOUSE: Final = "【门牌】"
NAME: Final = "某某"

# Full-width digits, letters and dashes as citizens type them on a Chinese keyboard: matched as
# ASCII, so "１３８００１３８０００" is a phone too. Only these characters change in the output.
_WIDE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "－": "-",
        "＋": "+",
        "\u3000": " ",
        "＠": "@",
    }
)

_SEP = r"[\s\-.·]?"  # what people put between digit groups: a space, a dash, a dot
_NOT_DIGIT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_DIGIT_AFTER = r"(?![0-9A-Za-z])"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

# 身份证: 6-digit region, birth date (19xx/20xx), 3-digit sequence, check digit or X; groups may
# be spaced. The 15-digit cards of before 1999 too (6 + yymmdd + 3).
_ID_18 = re.compile(
    _NOT_DIGIT_BEFORE
    + r"[1-9]\d{5}"
    + _SEP
    + r"(?:18|19|20)\d{2}"
    + _SEP
    + r"(?:0[1-9]|1[0-2])"
    + _SEP
    + r"(?:0[1-9]|[12]\d|3[01])"
    + _SEP
    + r"\d{3}"
    + _SEP
    + r"[\dXx]"
    + _NOT_DIGIT_AFTER
)
_ID_15 = re.compile(_NOT_DIGIT_BEFORE + r"[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + _NOT_DIGIT_AFTER)

# Mobile: 1[3-9]x + 8 digits, separators anywhere, optional +86 / 0086 / (86).
_MOBILE = re.compile(_NOT_DIGIT_BEFORE + r"(?:(?:\+|00)?\(?86\)?[\s-]?)?1[3-9]\d(?:[\s\-.]?\d){8}" + _NOT_DIGIT_AFTER)
# Landline with an area code: 0532-88886666, (0532) 8888 6666, 010-1234-5678, 0532－83886666 转 123.
_LANDLINE = re.compile(
    _NOT_DIGIT_BEFORE
    + r"(?:(?:\+|00)?86[\s-]?)?[(（]?0\d{2,3}[)）]?[\s-]?[2-9]\d{2,3}[\s-]?\d{4}(?:\s?(?:转|-|ext\.?|x)\s?\d{1,5})?"
    + _NOT_DIGIT_AFTER
)
# A number right after a contact word: 电话88886666, 微信 wx_abc123, QQ: 12345678.
_CUED_CONTACT = re.compile(
    r"(电话|手机|手机号|联系方式|联系电话|座机|号码|微信号?|tel|phone|mobile|wechat|qq)(\s*(?:是|为|:|：|号|number|no\.?)?\s*)"
    r"([0-9][0-9\s-]{4,}[0-9])",
    re.IGNORECASE,
)
# A WeChat or QQ id made of letters: 微信 wx_abc123.
_CUED_HANDLE = re.compile(r"(微信号?|wechat|qq)(\s*(?:是|为|:|：|id)?\s*)([A-Za-z][A-Za-z0-9_-]{5,19})", re.IGNORECASE)
# Any other long run of digits (bank cards, QQ numbers, order numbers): nothing public needs it.
_LONG_DIGITS = re.compile(_NOT_DIGIT_BEFORE + r"\d(?:[\s-]?\d){8,}[Xx]?" + _NOT_DIGIT_AFTER)

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"[{_PROVINCES}][A-HJ-NP-Za-hj-np-z][\s·•.-]?[A-HJ-NP-Za-hj-np-z0-9]{{4,5}}[A-HJ-NP-Za-hj-np-z0-9挂学警]"
    + _NOT_DIGIT_AFTER
)

# --- house numbers -------------------------------------------------------------------------------
_NUM = r"(?:\d{1,5}|[一二三四五六七八九十百零〇两]{1,4})"
# Units that only ever mean a building, entrance or flat: never a street, never a date.
_UNIT = r"(?:号楼|号院|栋|幢|座|单元|室|弄|门洞|门(?=\s*\d)|楼层|层|楼)"
# 8号楼3单元502室, 2栋1单元, 3-2-501, 12号院, 1单元502; chains of units, with a trailing flat number.
_HOUSE_CHAIN = re.compile(rf"(?:{_NUM}\s*[A-Za-z]?\s*{_UNIT}\s*[-—]?\s*)+(?:\d{{2,5}}(?:室|房|号|户)?)?")
_DASHED_FLAT = re.compile(_NOT_DIGIT_BEFORE + r"\d{1,3}-\d{1,2}-\d{2,4}" + _NOT_DIGIT_AFTER)
# "香港中路8号", "幸福里小区12号": a 号 after a place word is a house number; "12号晚上" (a date)
# or "3号线" (a metro line) is not.
_PLACE_WORD = r"(?:路|街|道|巷|弄|胡同|里|村|屯|组|小区|社区|花园|家园|苑|庭|府|城|园|公寓|大厦|广场|中心|院)"
_STREET_NUMBER = re.compile(
    rf"({_PLACE_WORD})\s*(?:{_NUM}(?:[-之]\d{{1,4}})?)\s*号(?!线|文|令|机|车|口|晚|早|上午|下午|中午|凌晨|那|当|左右|前|后)"
)
_ROOM = re.compile(_NOT_DIGIT_BEFORE + r"\d{3,4}(?=(?:室|房间|房|号房))")

# --- names -----------------------------------------------------------------------------------------
# The commonest surnames (about 90% of people), compound ones first. 司 and 于 are left out as
# single characters: 公司, 对于 are far commoner than either surname in what citizens write.
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|令狐|夏侯|端木|轩辕|南宫|独孤"
_SINGLE = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向"
    "汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕"
    "单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦"
    "褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明"
    "佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅"
    "屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修"
    "邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵩帖畅苍喜"
).replace("司", "")
_SURNAME = rf"(?:{_COMPOUND}|[{_SINGLE}])"
_HAN = r"[\u4e00-\u9fff]"
_TITLE = (
    r"(?:先生|女士|小姐|太太|夫人|师傅|阿姨|大爷|大妈|大娘|大叔|大哥|大姐|奶奶|爷爷|老师|医生|护士|律师|"
    r"警官|同志|老板|经理|主任|书记|局长|科长|处长|所长|队长|站长|院长|校长|村长|组长|会计)"
)
# 张先生 → 某先生; 王小明先生 → 某某先生. The given name (0–2 characters) must not itself hold
# a title's first character, so "张先生" is never read as 张先 + 生.
_TITLED = re.compile(rf"{_SURNAME}(?:(?!先|女|小|师|阿|大|老|同|医|经|主){_HAN}){{0,2}}(?={_TITLE})")
# After these words comes a name (我叫王小明, 姓名：李娜, 联系人 刘建国, 本人赵敏).
_NAME_CUE = re.compile(
    r"(我叫|俺叫|我的名字是|名字叫|名叫|姓名|联系人|本人|户主|业主|签名|署名|落款|此致\s*敬礼|敬礼|我是|俺是)"
    r"(\s*(?:是|为|:|：|，|,)?\s*)"
)
# What ends a name: punctuation, a space, or a word that starts what follows one.
_NAME_END = re.compile(
    r"(?:[\s,，。.!！?？;；:：、)）\]】]|$|的|住|在|是|家|电|手|联|今|昨|前|去|从|于|和|与|反|投|想|要|向|,|现|身|男|女|岁|今年|来)"
)
_SURNAME_AT = re.compile(_SURNAME)
_GREETING_NAME = rf"{_SURNAME}{_HAN}{{1,2}}(?=(?:同志|先生|女士)?\s*[，,、]?\s*(?:您好|你好))"
_SURNAME_ONLY = re.compile(rf"(?:(?<=我姓)|(?<=本人姓)|(?<=免贵姓)){_SURNAME}")


# English: "my name is John Smith", "Mr. Wang", "Room 502", "No. 8 Hong Kong Road", "Apt 3B".
_EN_NAME_CUE = re.compile(
    r"((?i:my name is|my name's|name:|i am called|call me|signed,?|regards,?)\s+)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
)
_EN_TITLED = re.compile(r"((?:Mr|Mrs|Ms|Miss|Dr|Madam)\.?\s+)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?")
_EN_HOUSE = re.compile(
    r"(?i:\b(?:room|rm\.?|apt\.?|apartment|flat|unit|building|bldg\.?|block|no\.|number|house)\s*#?\s*)\d+[A-Za-z]?\b"
    r"|\b\d{1,5}[A-Za-z]?(?=\s+(?:[A-Z][a-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd)\b)"
    r"|#\s?\d+\b"
)


def _name_after_cue(text: str, start: int, cue: str) -> int:
    """The length of the name at ``start`` (0 if none): a surname and one or two more Han
    characters ending where a name can end. "我是" alone is a weak cue ("我是高三学生"), so there
    the name must end at a clear boundary; after 我叫 / 姓名 any 2–3 characters are taken."""
    head = _SURNAME_AT.match(text, start)
    if head is None:
        return 0
    for given in (2, 1):
        end = head.end() + given
        if end > len(text) or not all("\u4e00" <= c <= "\u9fff" for c in text[head.end() : end]):
            continue
        if _NAME_END.match(text, end):
            return end - start
    if cue not in ("我是", "俺是") and "敬礼" not in cue:
        for given in (2, 1):
            end = head.end() + given
            if end <= len(text) and all("\u4e00" <= c <= "\u9fff" for c in text[head.end() : end]):
                return end - start
    return 0


def _cued_names(text: str) -> list[tuple[int, int]]:
    """Where the names after cue words are: (start, end) pairs, in order."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for cue in _NAME_CUE.finditer(text):
        if cue.start() < pos:
            continue
        length = _name_after_cue(text, cue.end(), cue.group(1))
        if length:
            spans.append((cue.end(), cue.end() + length))
            pos = cue.end() + length
    return spans


def names_in(text: str) -> frozenset[str]:
    """The names a text gives after cue words (我叫王小明 → 王小明), to be masked in another text
    too: the department's answer greets the citizen by the name the question gave."""
    text = text.translate(_WIDE)
    return frozenset(text[a:b] for a, b in _cued_names(text)) | frozenset(m.group(0) for m in _GREETED.finditer(text))


def _mask_names(text: str, known: frozenset[str]) -> str:
    """Names after a cue word, then every other place the same names (and ``known`` ones)
    appear: a letter signed with the name it began with, an answer greeting the citizen."""
    out: list[str] = []
    found = set(known)
    pos = 0
    for start, end in _cued_names(text):
        out.append(text[pos:start])
        out.append(NAME)
        found.add(text[start:end])
        pos = end
    out.append(text[pos:])
    masked = _GREETED.sub(NAME, "".join(out))
    for name in sorted((n for n in found if len(n) >= 2), key=len, reverse=True):
        masked = masked.replace(name, NAME)
    return masked


# "王小明您好", "李建国同志，你好": the greeting of a reply names its addressee.
_GREETED = re.compile(_GREETING_NAME)


# 老刘, 小王: a surname with 老/小 before it and a boundary after it is a person.
_NICKNAME = re.compile(rf"([老小]){_SURNAME}(?=[\s,，。!！、;；]|$)")
# "老某，刘德贵，": a full name set off by commas right after a masked name or nickname.
_APPOSITIVE = re.compile(rf"((?:某某|[老小]某)[,，、\s]\s*){_SURNAME}{_HAN}{{1,2}}(?=[\s,，。!！、;；(（]|$)")


def _cued_contact(found: re.Match[str]) -> str:
    handle = found.group(1).lower() in ("qq", "微信", "微信号", "wechat")
    return found.group(1) + found.group(2) + (NUMBER if handle else PHONE)


def _house_chain(found: re.Match[str]) -> str:
    return HOUSE if found.group(0).strip() else found.group(0)


def mask_for_public(text: str, names: Iterable[str] = ()) -> str:
    """The citizen's words fit to publish. ``names``: names known from elsewhere (``names_in``
    of the question, when masking its answer). Idempotent: masking masked text changes nothing."""
    text = text.translate(_WIDE)
    text = _EMAIL.sub(EMAIL, text)
    text = _ID_18.sub(ID_CARD, text)
    text = _ID_15.sub(ID_CARD, text)
    text = _PLATE.sub(PLATE, text)
    text = _CUED_CONTACT.sub(_cued_contact, text)
    text = _CUED_HANDLE.sub(lambda m: m.group(1) + m.group(2) + NUMBER, text)
    text = _MOBILE.sub(PHONE, text)
    text = _LANDLINE.sub(PHONE, text)
    text = _DASHED_FLAT.sub(HOUSE, text)
    text = _HOUSE_CHAIN.sub(_house_chain, text)
    text = _ROOM.sub(HOUSE, text)
    text = _STREET_NUMBER.sub(lambda m: m.group(1) + HOUSE, text)
    text = _EN_HOUSE.sub(HOUSE, text)
    text = _LONG_DIGITS.sub(NUMBER, text)
    text = _mask_names(text, frozenset(n.translate(_WIDE) for n in names))
    text = _SURNAME_ONLY.sub("某", text)
    text = _NICKNAME.sub(lambda m: m.group(1) + "某", text)
    text = _APPOSITIVE.sub(lambda m: m.group(1) + NAME, text)
    text = _EN_NAME_CUE.sub(lambda m: m.group(1) + "***", text)
    text = _EN_TITLED.sub(lambda m: m.group(1) + "***", text)
    return _TITLED.sub(lambda m: "某" if len(m.group(0)) == 1 else NAME, text)
