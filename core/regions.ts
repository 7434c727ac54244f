/**
 * Chinese administrative regions (行政区划) as compact data — provinces, prefecture-level divisions,
 * well-known county-level cities and the main urban districts — and the lookup that recognises them
 * at a position in a name, with their suffixes (省/市/自治区/盟/地区/自治州/区) handled in code.
 */

/** One administrative region, named by its short form (上海, 深圳, 延边). */
export interface Region {
  name: string;
  level: 'province' | 'prefecture' | 'county' | 'district';
  /** Short name of the containing region; null for provinces. */
  parent: string | null;
}

interface ProvinceData {
  /** 省级行政区, short name. */
  name: string;
  kind: 'province' | 'municipality' | 'autonomous' | 'sar' | 'taiwan';
  /** Prefecture-level cities (地级市), written bare; `市` is optional in a name. */
  cities: string;
  /** Other prefecture-level divisions, `short·suffix` (盟, 地区, 自治州); the suffix is required in a name. */
  others?: string;
}

const PROVINCES: readonly ProvinceData[] = [
  { name: '北京', kind: 'municipality', cities: '' },
  { name: '天津', kind: 'municipality', cities: '' },
  { name: '上海', kind: 'municipality', cities: '' },
  { name: '重庆', kind: 'municipality', cities: '' },
  { name: '河北', kind: 'province', cities: '石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水' },
  { name: '山西', kind: 'province', cities: '太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁' },
  {
    name: '内蒙古',
    kind: 'autonomous',
    cities: '呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布',
    others: '兴安·盟 锡林郭勒·盟 阿拉善·盟',
  },
  {
    name: '辽宁',
    kind: 'province',
    cities: '沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛',
  },
  {
    name: '吉林',
    kind: 'province',
    cities: '长春 吉林 四平 辽源 通化 白山 松原 白城',
    others: '延边·朝鲜族自治州',
  },
  {
    name: '黑龙江',
    kind: 'province',
    cities: '哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化',
    others: '大兴安岭·地区',
  },
  {
    name: '江苏',
    kind: 'province',
    cities: '南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁',
  },
  { name: '浙江', kind: 'province', cities: '杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水' },
  {
    name: '安徽',
    kind: 'province',
    cities: '合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城',
  },
  { name: '福建', kind: 'province', cities: '福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德' },
  { name: '江西', kind: 'province', cities: '南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶' },
  {
    name: '山东',
    kind: 'province',
    cities: '济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽',
  },
  {
    name: '河南',
    kind: 'province',
    cities: '郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店',
  },
  {
    name: '湖北',
    kind: 'province',
    cities: '武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州',
    others: '恩施·土家族苗族自治州',
  },
  {
    name: '湖南',
    kind: 'province',
    cities: '长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底',
    others: '湘西·土家族苗族自治州',
  },
  {
    name: '广东',
    kind: 'province',
    cities:
      '广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮',
  },
  {
    name: '广西',
    kind: 'autonomous',
    cities: '南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左',
  },
  { name: '海南', kind: 'province', cities: '海口 三亚 三沙 儋州' },
  {
    name: '四川',
    kind: 'province',
    cities: '成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳',
    others: '阿坝·藏族羌族自治州 甘孜·藏族自治州 凉山·彝族自治州',
  },
  {
    name: '贵州',
    kind: 'province',
    cities: '贵阳 六盘水 遵义 安顺 毕节 铜仁',
    others: '黔西南·布依族苗族自治州 黔东南·苗族侗族自治州 黔南·布依族苗族自治州',
  },
  {
    name: '云南',
    kind: 'province',
    cities: '昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧',
    others:
      '楚雄·彝族自治州 红河·哈尼族彝族自治州 文山·壮族苗族自治州 西双版纳·傣族自治州 大理·白族自治州 ' +
      '德宏·傣族景颇族自治州 怒江·傈僳族自治州 迪庆·藏族自治州',
  },
  { name: '西藏', kind: 'autonomous', cities: '拉萨 日喀则 昌都 林芝 山南 那曲', others: '阿里·地区' },
  { name: '陕西', kind: 'province', cities: '西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛' },
  {
    name: '甘肃',
    kind: 'province',
    cities: '兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南',
    others: '临夏·回族自治州 甘南·藏族自治州',
  },
  {
    name: '青海',
    kind: 'province',
    cities: '西宁 海东',
    others:
      '海北·藏族自治州 黄南·藏族自治州 海南·藏族自治州 果洛·藏族自治州 玉树·藏族自治州 海西·蒙古族藏族自治州',
  },
  { name: '宁夏', kind: 'autonomous', cities: '银川 石嘴山 吴忠 固原 中卫' },
  {
    name: '新疆',
    kind: 'autonomous',
    cities: '乌鲁木齐 克拉玛依 吐鲁番 哈密',
    others:
      '昌吉·回族自治州 博尔塔拉·蒙古自治州 巴音郭楞·蒙古自治州 克孜勒苏·柯尔克孜自治州 伊犁·哈萨克自治州 ' +
      '阿克苏·地区 喀什·地区 和田·地区 塔城·地区 阿勒泰·地区',
  },
  { name: '台湾', kind: 'taiwan', cities: '台北 新北 桃园 台中 台南 高雄 基隆 新竹 嘉义' },
  { name: '香港', kind: 'sar', cities: '' },
  { name: '澳门', kind: 'sar', cities: '' },
];

/** Well-known county-level cities (县级市) by their prefecture; `市` optional in a name. */
const COUNTY_CITIES: Record<string, string> = {
  苏州: '昆山 常熟 张家港 太仓',
  无锡: '江阴 宜兴',
  常州: '溧阳',
  镇江: '丹阳',
  南通: '如皋 海安',
  泰州: '靖江 泰兴',
  宁波: '慈溪 余姚',
  绍兴: '诸暨 嵊州',
  温州: '乐清 瑞安',
  金华: '义乌 东阳 永康',
  嘉兴: '海宁 桐乡 平湖',
  泉州: '晋江 石狮 南安',
  福州: '福清',
  青岛: '胶州 平度 莱西',
  潍坊: '寿光 青州 诸城',
  烟台: '龙口 莱州',
  长沙: '浏阳 宁乡',
  湖北: '仙桃 潜江 天门',
  河南: '济源',
  石家庄: '辛集',
  保定: '涿州',
  廊坊: '三河',
};

/** Main urban districts (市辖区) of the largest cities; matched only as full names with 区 after their city. */
const DISTRICTS: Record<string, string> = {
  北京: '东城 西城 朝阳 海淀 丰台 石景山 门头沟 房山 通州 顺义 昌平 大兴 怀柔 平谷 密云 延庆',
  上海: '黄浦 徐汇 长宁 静安 普陀 虹口 杨浦 闵行 宝山 嘉定 浦东新 金山 松江 青浦 奉贤 崇明',
  天津: '和平 河东 河西 南开 河北 红桥 东丽 西青 津南 北辰 武清 宝坻 滨海新 宁河 静海 蓟州',
  重庆: '渝中 江北 南岸 九龙坡 沙坪坝 大渡口 渝北 巴南 北碚 万州 涪陵 永川 合川 江津 长寿 璧山',
  广州: '越秀 海珠 荔湾 天河 白云 黄埔 番禺 花都 南沙 从化 增城',
  深圳: '福田 罗湖 南山 盐田 宝安 龙岗 龙华 坪山 光明',
  杭州: '上城 拱墅 西湖 滨江 萧山 余杭 临平 钱塘 富阳 临安',
  南京: '玄武 秦淮 建邺 鼓楼 浦口 栖霞 雨花台 江宁 六合 溧水 高淳',
  成都: '锦江 青羊 金牛 武侯 成华 龙泉驿 青白江 新都 温江 双流 郫都 新津',
  武汉: '江岸 江汉 硚口 汉阳 武昌 青山 洪山 东西湖 汉南 蔡甸 江夏 黄陂 新洲',
  苏州: '姑苏 虎丘 吴中 相城 吴江',
};

const PROVINCE_SUFFIXES: Record<ProvinceData['kind'], readonly string[]> = {
  province: ['省'],
  municipality: ['市'],
  autonomous: [],
  sar: ['特别行政区'],
  taiwan: ['省'],
};

/** Official names of the autonomous regions' suffixes; bare 自治区 is accepted too. */
const AUTONOMOUS_SUFFIXES: Record<string, string> = {
  内蒙古: '自治区',
  广西: '壮族自治区',
  西藏: '自治区',
  宁夏: '回族自治区',
  新疆: '维吾尔自治区',
};

interface RegionForm {
  region: Region;
  /** Accepted suffixes after the short name, longest first. */
  suffixes: readonly string[];
  /** The short name alone is not enough (阿里 → 阿里地区), so bare words are not taken for regions. */
  suffixRequired: boolean;
}

/** Every region form by short name; a short name may have several (吉林 the province and the city). */
const FORMS_BY_NAME = new Map<string, RegionForm[]>();
const REGIONS_BY_NAME = new Map<string, Region[]>();
let longestName = 0;

function addForm(form: RegionForm): void {
  const name = form.region.name;
  FORMS_BY_NAME.set(name, [...(FORMS_BY_NAME.get(name) ?? []), form]);
  REGIONS_BY_NAME.set(name, [...(REGIONS_BY_NAME.get(name) ?? []), form.region]);
  longestName = Math.max(longestName, name.length);
}

function words(list: string | undefined): string[] {
  return (list ?? '').split(/\s+/).filter((w) => w !== '');
}

function longestFirst(suffixes: string[]): string[] {
  return [...new Set(suffixes)].sort((a, b) => b.length - a.length);
}

for (const province of PROVINCES) {
  const official = AUTONOMOUS_SUFFIXES[province.name];
  const suffixes = official === undefined ? [...PROVINCE_SUFFIXES[province.kind]] : [official, '自治区'];
  addForm({
    region: { name: province.name, level: 'province', parent: null },
    suffixes: longestFirst(suffixes),
    suffixRequired: false,
  });
  for (const city of words(province.cities)) {
    addForm({
      region: { name: city, level: 'prefecture', parent: province.name },
      suffixes: ['市'],
      suffixRequired: false,
    });
  }
  for (const other of words(province.others)) {
    const [short = '', suffix = ''] = other.split('·');
    // Autonomous prefectures are commonly shortened to 州 (恩施州, 凉山州).
    const suffixes = suffix.endsWith('自治州') ? [suffix, '自治州', '州'] : [suffix];
    addForm({
      region: { name: short, level: 'prefecture', parent: province.name },
      suffixes: longestFirst(suffixes),
      suffixRequired: true,
    });
  }
}
for (const [parent, list] of Object.entries(COUNTY_CITIES)) {
  for (const county of words(list)) {
    addForm({ region: { name: county, level: 'county', parent }, suffixes: ['市'], suffixRequired: false });
  }
}
for (const [parent, list] of Object.entries(DISTRICTS)) {
  for (const district of words(list)) {
    addForm({
      region: { name: district, level: 'district', parent },
      suffixes: ['区'],
      suffixRequired: true,
    });
  }
}

/** The first UTF-16 unit of every region's short name. */
const FIRST_UNITS = new Set([...FORMS_BY_NAME.keys()].map((name) => name.charCodeAt(0)));

/** All regions, for tests and for building pick lists. */
export const REGIONS: readonly Region[] = [...REGIONS_BY_NAME.values()].flat();

/** The regions with this short name (empty when it is not a known region). */
export function findRegions(name: string): readonly Region[] {
  return REGIONS_BY_NAME.get(name) ?? [];
}

/** True when `outer` is `inner` or contains it (广东 contains 深圳 and 深圳's districts). */
export function regionContains(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const seen = new Set<string>();
  const pending = [inner];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    for (const region of findRegions(name)) {
      const parent = region.parent;
      if (parent === null || seen.has(parent)) continue;
      if (parent === outer) return true;
      seen.add(parent);
      pending.push(parent);
    }
  }
  return false;
}

/** A region written in a name, and where its text ends. */
export interface RegionMatch {
  region: Region;
  end: number;
}

/**
 * A bare place name followed by 县, or by 区 where that makes a known district, names a smaller place
 * of the same name (朝阳区 in Beijing is not 朝阳市 in Liaoning; 吉安县 is not 吉安市).
 */
function namesSmallerPlace(name: string, following: string): boolean {
  if (following === '县') return true;
  return following === '区' && (FORMS_BY_NAME.get(name) ?? []).some((f) => f.region.level === 'district');
}

/**
 * The region written at `start` in `text` (short name plus an accepted suffix), longest first.
 * `allowed` limits the levels considered; `parent` limits matches to children of that region.
 */
export function matchRegionAt(
  text: string,
  start: number,
  allowed: ReadonlySet<Region['level']>,
  parent: string | null = null,
): RegionMatch | null {
  // Most positions of most names start no region name: answered without trying every length.
  if (!FIRST_UNITS.has(text.charCodeAt(start))) return null;
  for (let length = Math.min(longestName, text.length - start); length >= 2; length--) {
    const name = text.slice(start, start + length);
    const named = FORMS_BY_NAME.get(name);
    if (named === undefined) continue;
    const forms = named.filter(
      (form) =>
        allowed.has(form.region.level) && (parent === null || regionContains(parent, form.region.name)),
    );
    const afterName = start + length;
    // A written suffix decides between forms sharing a name (吉林市 is the city, not the province).
    for (const form of forms) {
      const suffix = form.suffixes.find((s) => text.startsWith(s, afterName));
      if (suffix !== undefined) return { region: form.region, end: afterName + suffix.length };
    }
    const bare = forms.find((form) => !form.suffixRequired);
    if (bare !== undefined && !namesSmallerPlace(name, text.charAt(afterName))) {
      return { region: bare.region, end: afterName };
    }
  }
  return null;
}

const TOP_LEVELS: ReadonlySet<Region['level']> = new Set(['province', 'prefecture', 'county']);
const BELOW_PROVINCE: ReadonlySet<Region['level']> = new Set(['prefecture', 'county']);
const BELOW_PREFECTURE: ReadonlySet<Region['level']> = new Set(['county', 'district']);

/**
 * A chain of regions written at `start` — province, then prefecture, then county-level city or
 * district (广东省深圳市, 上海市浦东新区, 江苏昆山) — reduced to the most specific region above
 * district level: districts fold into their city, since a name's region is its city at most.
 */
export function matchRegionChainAt(text: string, start: number): { region: string; end: number } | null {
  const first = matchRegionAt(text, start, TOP_LEVELS);
  if (first === null) return null;
  let region = first.region;
  let end = first.end;
  if (region.level === 'province') {
    const next = matchRegionAt(text, end, BELOW_PROVINCE, region.name);
    if (next !== null) ({ region, end } = next);
  }
  if (region.level === 'prefecture' || region.level === 'province') {
    const next = matchRegionAt(text, end, BELOW_PREFECTURE, region.name);
    if (next !== null) {
      end = next.end;
      if (next.region.level === 'county') region = next.region;
    }
  }
  return { region: region.name, end };
}
