/**
 * Deterministic generators of realistic registrations for benchmarks: company names built as
 * 行政区划 + 字号 + 行业 + 组织形式 with skewed (Zipf) trade-name characters, individuals with
 * common Chinese names, phones, credit codes with valid check characters, and variants of a customer.
 */
import { creditCodeCheckChar } from '../core/creditCode.js';
import { toSimplified } from '../core/simplified.js';
import type { Registration } from '../core/schema.js';

/** A seeded pseudo-random source (mulberry32): the same seed gives the same data on every machine. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  digits(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += String(this.int(10));
    return out;
  }
}

/** Picks from a list with Zipf weights (the first item most often), as real name parts are. */
export class ZipfPicker<T> {
  private readonly cumulative: number[];

  constructor(
    private readonly items: readonly T[],
    exponent = 1,
  ) {
    let total = 0;
    this.cumulative = items.map((_, i) => (total += 1 / Math.pow(i + 1, exponent)));
  }

  pick(random: Random): T {
    const target = random.next() * (this.cumulative[this.cumulative.length - 1] as number);
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return this.items[lo] as T;
  }
}

/** A city, with the area code of its landlines and an administrative division code (行政区划代码). */
interface City {
  name: string;
  area: string;
  division: string;
}

/** Cities, the largest (most registered companies) first. */
const CITIES: readonly City[] = [
  { name: '上海', area: '021', division: '310115' },
  { name: '北京', area: '010', division: '110105' },
  { name: '深圳', area: '0755', division: '440305' },
  { name: '广州', area: '020', division: '440106' },
  { name: '杭州', area: '0571', division: '330106' },
  { name: '苏州', area: '0512', division: '320505' },
  { name: '成都', area: '028', division: '510107' },
  { name: '武汉', area: '027', division: '420106' },
  { name: '南京', area: '025', division: '320102' },
  { name: '重庆', area: '023', division: '500103' },
  { name: '天津', area: '022', division: '120101' },
  { name: '西安', area: '029', division: '610113' },
  { name: '长沙', area: '0731', division: '430104' },
  { name: '郑州', area: '0371', division: '410105' },
  { name: '青岛', area: '0532', division: '370202' },
  { name: '宁波', area: '0574', division: '330203' },
  { name: '东莞', area: '0769', division: '441900' },
  { name: '佛山', area: '0757', division: '440604' },
  { name: '合肥', area: '0551', division: '340104' },
  { name: '无锡', area: '0510', division: '320213' },
  { name: '厦门', area: '0592', division: '350203' },
  { name: '福州', area: '0591', division: '350102' },
  { name: '济南', area: '0531', division: '370102' },
  { name: '昆明', area: '0871', division: '530102' },
  { name: '沈阳', area: '024', division: '210102' },
  { name: '大连', area: '0411', division: '210202' },
  { name: '哈尔滨', area: '0451', division: '230102' },
  { name: '长春', area: '0431', division: '220102' },
  { name: '石家庄', area: '0311', division: '130102' },
  { name: '太原', area: '0351', division: '140105' },
  { name: '南昌', area: '0791', division: '360102' },
  { name: '南宁', area: '0771', division: '450102' },
  { name: '贵阳', area: '0851', division: '520102' },
  { name: '兰州', area: '0931', division: '620102' },
  { name: '温州', area: '0577', division: '330302' },
  { name: '嘉兴', area: '0573', division: '330402' },
  { name: '绍兴', area: '0575', division: '330602' },
  { name: '金华', area: '0579', division: '330702' },
  { name: '台州', area: '0576', division: '331002' },
  { name: '常州', area: '0519', division: '320402' },
  { name: '南通', area: '0513', division: '320602' },
  { name: '徐州', area: '0516', division: '320302' },
  { name: '扬州', area: '0514', division: '321002' },
  { name: '烟台', area: '0535', division: '370602' },
  { name: '潍坊', area: '0536', division: '370702' },
  { name: '泉州', area: '0595', division: '350502' },
  { name: '珠海', area: '0756', division: '440402' },
  { name: '中山', area: '0760', division: '442000' },
  { name: '惠州', area: '0752', division: '441302' },
  { name: '洛阳', area: '0379', division: '410302' },
  { name: '芜湖', area: '0553', division: '340202' },
  { name: '海口', area: '0898', division: '460105' },
];
const CITY_PICKER = new ZipfPicker(CITIES, 0.8);

/** Characters of trade names (字号), the most used first. */
const TRADE_CHARS = [
  ...'华信恒通盛昌博瑞鑫泰达宏远凯嘉佳和新天中金海云帆德益源聚汇创锦辰宇航永安隆兴丰祥福润东方立成正光明启众合力诚鼎晟腾飞扬卓越智慧美康乐万利发顺景峰宝联兆亿晶城科迪普赛思睿捷迅腾龙凤祥麟鹏豪伟浩宁静雅蓝绿紫星月阳春秋冠名誉荣耀旭升弘毅鸿运亨嘉誉精工巨匠铭途尚品优择佰仟壹贰叁泽沐森林川江湖湘楚粤闽蜀秦晋鲁豫皖赣桂琼',
];
const TRADE_FIRST = new ZipfPicker([...new Set(TRADE_CHARS)], 0.9);
const TRADE_SECOND = new ZipfPicker([...new Set(TRADE_CHARS)].reverse(), 0.7);

const INDUSTRIES = new ZipfPicker(
  [
    '科技',
    '信息技术',
    '网络科技',
    '贸易',
    '电子',
    '商贸',
    '建设工程',
    '机械',
    '电气',
    '物流',
    '生物科技',
    '新材料',
    '医疗器械',
    '食品',
    '环保科技',
    '软件',
    '咨询',
    '服饰',
    '照明',
    '精密制造',
    '文化传媒',
    '餐饮管理',
    '房地产开发',
    '装饰工程',
    '化工',
    '汽车服务',
    '教育科技',
    '供应链管理',
    '能源科技',
    '智能科技',
    '电子商务',
    '广告',
    '印务',
    '包装',
    '纺织',
    '家具',
    '建材',
    '投资管理',
    '企业管理咨询',
    '人力资源',
    '实业',
  ],
  0.8,
);

const LEGAL_FORMS: readonly [string, number][] = [
  ['有限公司', 0.6],
  ['有限责任公司', 0.15],
  ['股份有限公司', 0.1],
  ['集团有限公司', 0.05],
  ['', 0.1],
];

/** Surnames with their rough share among the Han population. */
const SURNAMES = new ZipfPicker(
  [
    ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常',
  ],
  1,
);
const GIVEN_NAMES = new ZipfPicker(
  [
    '伟',
    '芳',
    '娜',
    '敏',
    '静',
    '秀英',
    '丽',
    '强',
    '磊',
    '洋',
    '艳',
    '勇',
    '军',
    '杰',
    '娟',
    '涛',
    '明',
    '超',
    '秀兰',
    '霞',
    '平',
    '刚',
    '桂英',
    '浩然',
    '子涵',
    '雨萱',
    '欣怡',
    '梓涵',
    '晨',
    '辉',
    '鹏',
    '华',
    '建华',
    '建国',
    '志强',
    '海燕',
    '晓东',
    '玉兰',
    '文博',
    '宇航',
    '思远',
    '佳怡',
    '俊杰',
    '丹',
    '萍',
    '红',
    '玲',
    '斌',
    '宁',
    '婷',
    '慧',
    '颖',
    '琳',
    '雪',
    '倩',
    '凯',
    '博',
    '阳',
    '飞',
    '峰',
  ],
  1,
);

const MOBILE_PREFIXES = [
  ...'130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 170 171 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 196 198 199'.split(
    ' ',
  ),
];
const REGISTRANTS = [
  '周杰',
  '杨帆',
  '刘洋',
  '李娜',
  '张伟',
  '陈静',
  '王磊',
  '黄强',
  '赵敏',
  '吴婷',
  '孙浩',
  '郭丽',
];

/** A company name's parts: 行政区划 (none for a name written without one) + 字号 + 行业 + 组织形式. */
export interface CompanyParts {
  city: City | null;
  trade: string;
  industry: string;
  form: string;
}

/** One customer: what stays the same across its registrations. */
export interface Customer {
  id: number;
  type: 'enterprise' | 'individual';
  company?: CompanyParts;
  /** An individual's name, or an enterprise's contact. */
  personName?: string;
  creditCode?: string;
  /** Normalised, `13812345678` or `021-12345678`. */
  phone?: string;
  email?: string;
  householdOf?: string;
}

/** A registration with the customer it is of and how it was made. */
export interface GeneratedRegistration {
  customer: number;
  kind: 'original' | 'duplicate' | 'variant' | 'near';
  /** What matching should find against the customer's other registrations. */
  expect: 'exact' | 'possible';
  registration: Registration;
}

/** Makes distinct customers: no two share a name key, phone, credit code or email by accident. */
export class CustomerFactory {
  private readonly usedNames = new Set<string>();
  private readonly usedPhones = new Set<string>();
  private readonly usedCodes = new Set<string>();
  private readonly usedEmails = new Set<string>();
  private readonly individuals: string[] = [];
  private nextId = 0;

  constructor(
    private readonly random: Random,
    private readonly options: { individualShare: number; householdShare: number } = {
      individualShare: 0.2,
      householdShare: 0.02,
    },
  ) {}

  customer(): Customer {
    return this.random.chance(this.options.individualShare) ? this.individual() : this.enterprise();
  }

  private enterprise(): Customer {
    const r = this.random;
    let company: CompanyParts;
    do {
      company = {
        city: r.chance(0.05) ? null : CITY_PICKER.pick(r),
        trade: TRADE_FIRST.pick(r) + TRADE_SECOND.pick(r) + (r.chance(0.1) ? TRADE_SECOND.pick(r) : ''),
        industry: INDUSTRIES.pick(r),
        form: weighted(r, LEGAL_FORMS),
      };
    } while (!this.claimName(company));
    const customer: Customer = { id: this.nextId++, type: 'enterprise', company };
    if (r.chance(0.8)) customer.personName = personName(r);
    if (r.chance(0.6)) customer.creditCode = this.creditCode(company.city);
    if (r.chance(0.95)) customer.phone = r.chance(0.15) ? this.landline(company.city) : this.mobile();
    if (r.chance(0.2))
      customer.email = this.unique(
        this.usedEmails,
        () => `${latinSlug(r)}${r.digits(2)}@${latinSlug(r)}.com.cn`,
      );
    return customer;
  }

  private individual(): Customer {
    const r = this.random;
    const name = personName(r);
    // R5: an individual is registered with a phone.
    const customer: Customer = {
      id: this.nextId++,
      type: 'individual',
      personName: name,
      phone: this.mobile(),
    };
    if (r.chance(0.25))
      customer.email = this.unique(this.usedEmails, () => `${1 + r.int(9)}${r.digits(5 + r.int(5))}@qq.com`);
    if (this.individuals.length > 0 && r.chance(this.options.householdShare)) {
      customer.householdOf = r.pick(this.individuals);
    }
    this.individuals.push(name);
    return customer;
  }

  private mobile(): string {
    return this.unique(this.usedPhones, () => this.random.pick(MOBILE_PREFIXES) + this.random.digits(8));
  }

  private landline(city: City | null): string {
    const area = city?.area ?? '0' + String(300 + this.random.int(600));
    const localLength = area.length === 3 ? 8 : 7 + this.random.int(2);
    return this.unique(
      this.usedPhones,
      () => `${area}-${2 + this.random.int(7)}${this.random.digits(localLength - 1)}`,
    );
  }

  /** 91 + division code + organisation code (GB 11714 check) + check character (GB 32100). */
  private creditCode(city: City | null): string {
    const division = city?.division ?? '110105';
    return this.unique(this.usedCodes, () => {
      const body = this.random.digits(8);
      const first17 = `91${division}${body}${organisationCheckChar(body)}`;
      return first17 + creditCodeCheckChar(first17);
    });
  }

  private unique(used: Set<string>, make: () => string): string {
    for (;;) {
      const value = make();
      if (this.claim(used, value)) return value;
    }
  }

  /** Reserves a company name (region and core); false when a customer already has it. */
  claimName(company: CompanyParts): boolean {
    return this.claim(this.usedNames, `${company.city?.name ?? ''}|${company.trade}${company.industry}`);
  }

  private claim(used: Set<string>, value: string): boolean {
    if (used.has(value)) return false;
    used.add(value);
    return true;
  }
}

/** The customer's registration as its first registrant writes it. */
export function registrationOf(customer: Customer, random: Random): Registration {
  const reg: Registration = {
    customerType: customer.type,
    customerName: customer.company ? companyName(customer.company, 'plain') : (customer.personName as string),
    registrant: random.pick(REGISTRANTS),
  };
  if (customer.type === 'enterprise' && customer.personName !== undefined)
    reg.contactName = customer.personName;
  if (customer.creditCode !== undefined) reg.creditCode = customer.creditCode;
  if (customer.phone !== undefined) {
    // Channel registrations (R8) mask the phone.
    reg.contactPhone =
      random.chance(0.05) && isMobile(customer.phone) ? mask(customer.phone) : customer.phone;
  }
  if (customer.email !== undefined) reg.email = customer.email;
  if (customer.householdOf !== undefined) reg.householdOf = customer.householdOf;
  return reg;
}

/** Another registrant registering the same customer the same way. */
export function duplicateOf(customer: Customer, random: Random): GeneratedRegistration {
  return {
    customer: customer.id,
    kind: 'duplicate',
    expect: 'exact',
    registration: registrationOf(customer, random),
  };
}

/**
 * The same customer written differently: the name in another accepted form (exact), a masked phone
 * with the name (exact), the credit code under a new name (exact); or a near-duplicate — a longer or
 * region-less name without credit code, a masked phone with a differently written given name — that
 * matching should report as possible. New names are claimed from the factory, so that a variant
 * never takes the name of another customer.
 */
export function variantOf(
  customer: Customer,
  random: Random,
  factory: CustomerFactory,
): GeneratedRegistration {
  const reg = registrationOf(customer, random);
  const r = random;
  const result = (kind: GeneratedRegistration['kind'], expect: GeneratedRegistration['expect']) => ({
    customer: customer.id,
    kind,
    expect,
    registration: reg,
  });
  if (customer.company) {
    const company = customer.company;
    const roll = r.next();
    if (roll >= 0.5) {
      const near = nearCompany(company, roll, customer.creditCode !== undefined, r);
      if (near !== null && factory.claimName(near.company)) {
        reg.customerName = companyName(near.company, 'plain');
        if (near.kind === 'near') {
          delete reg.creditCode;
          // A different contact number: only the name can find the customer.
          if (reg.contactPhone !== undefined) reg.contactPhone = `139${r.digits(8)}`;
        }
        return result(near.kind, near.kind === 'near' ? 'possible' : 'exact');
      }
    }
    const style = r.pick(['bracketed', 'city', 'no-form', 'spaced', 'traditional'] as const);
    reg.customerName = companyName(company, style);
    if (r.chance(0.5)) delete reg.creditCode;
    return result('variant', 'exact');
  }
  const phone = customer.phone as string;
  const roll = r.next();
  if (roll < 0.4) {
    reg.contactPhone = mask(phone);
    return result('variant', 'exact');
  }
  if (roll < 0.7) {
    reg.contactPhone = `+86 ${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`;
    return result('variant', 'exact');
  }
  // The surname stays, the given name is written with another character: masked phone + surname.
  reg.contactPhone = mask(phone);
  reg.customerName = (customer.personName as string).slice(0, 1) + r.pick(['一', '二', '三', '小']);
  delete reg.email;
  return result('near', 'possible');
}

/** A renamed company (更名, linked by its credit code), or a near-duplicate name: region left out, or a longer name. */
function nearCompany(
  company: CompanyParts,
  roll: number,
  hasCreditCode: boolean,
  random: Random,
): { company: CompanyParts; kind: 'variant' | 'near' } | null {
  if (roll < 0.65)
    return hasCreditCode ? { company: { ...company, trade: company.trade + '新' }, kind: 'variant' } : null;
  if (roll < 0.8) return company.city === null ? null : { company: { ...company, city: null }, kind: 'near' };
  const suffix = random.pick(['发展', '服务', '工程', '技术']);
  return { company: { ...company, industry: company.industry + suffix }, kind: 'near' };
}

type NameStyle = 'plain' | 'bracketed' | 'city' | 'no-form' | 'spaced' | 'traditional';

function companyName(company: CompanyParts, style: NameStyle): string {
  const region = company.city?.name ?? '';
  const core = company.trade + company.industry;
  const form = company.form === '' && style === 'bracketed' ? '有限公司' : company.form;
  switch (style) {
    case 'bracketed':
      return region === '' ? `${core}${form}` : `${core}（${region}）${form}`;
    case 'city':
      return region === '' ? `${core}${form}` : `${region}市${core}${form}`;
    case 'no-form':
      return `${region}${core}`;
    case 'spaced':
      return ` ${region} ${core} ${form} `;
    case 'traditional':
      return traditional(`${region}${core}${form}`);
    case 'plain':
      return `${region}${core}${form}`;
  }
}

/** A few simplified → traditional substitutions, enough that the name must be converted to match. */
function traditional(text: string): string {
  const map: Record<string, string> = {
    华: '華',
    电: '電',
    气: '氣',
    术: '術',
    贸: '貿',
    业: '業',
    发: '發',
    东: '東',
    丰: '豐',
    龙: '龍',
    鸿: '鴻',
    兴: '興',
    网: '網',
    络: '絡',
    机: '機',
    械: '械',
    设: '設',
    务: '務',
    广: '廣',
    汇: '匯',
    聚: '聚',
    鑫: '鑫',
    盛: '盛',
  };
  const converted = [...text].map((ch) => map[ch] ?? ch).join('');
  // Only keep it when converting back gives the original (a few traditional forms are ambiguous).
  return toSimplified(converted) === text ? converted : text;
}

function personName(random: Random): string {
  return SURNAMES.pick(random) + GIVEN_NAMES.pick(random);
}

function latinSlug(random: Random): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let out = '';
  const length = 3 + random.int(6);
  for (let i = 0; i < length; i++) out += letters.charAt(random.int(26));
  return out;
}

function weighted<T>(random: Random, items: readonly [T, number][]): T {
  let roll = random.next();
  for (const [item, weight] of items) {
    if (roll < weight) return item;
    roll -= weight;
  }
  return (items[items.length - 1] as [T, number])[0];
}

function isMobile(phone: string): boolean {
  return /^1\d{10}$/.test(phone);
}

function mask(mobile: string): string {
  return `${mobile.slice(0, 3)}****${mobile.slice(7)}`;
}

/** GB 11714 check character of an 8-digit organisation code body. */
function organisationCheckChar(body: string): string {
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(body.charAt(i)) * (weights[i] as number);
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

/**
 * The stored registrations: `count` rows, mostly one per customer, with `nearDuplicateShare` of them
 * re-registrations of an earlier customer (duplicates, variants, near-duplicates).
 */
export function generateRegistrations(
  count: number,
  seed: number,
  options: { nearDuplicateShare?: number; individualShare?: number } = {},
): { customers: Customer[]; rows: GeneratedRegistration[]; factory: CustomerFactory; random: Random } {
  const random = new Random(seed);
  const factory = new CustomerFactory(random, {
    individualShare: options.individualShare ?? 0.2,
    householdShare: 0.02,
  });
  const customers: Customer[] = [];
  const rows: GeneratedRegistration[] = [];
  const repeatShare = options.nearDuplicateShare ?? 0.03;
  while (rows.length < count) {
    if (customers.length > 0 && random.chance(repeatShare)) {
      const customer = random.pick(customers);
      rows.push(random.chance(0.3) ? duplicateOf(customer, random) : variantOf(customer, random, factory));
      continue;
    }
    const customer = factory.customer();
    customers.push(customer);
    rows.push({
      customer: customer.id,
      kind: 'original',
      expect: 'exact',
      registration: registrationOf(customer, random),
    });
  }
  return { customers, rows, factory, random };
}

/** Rows to match against stored ones: new customers, exact duplicates and variants, in the given shares. */
export function generateQueries(
  stored: { customers: Customer[]; factory: CustomerFactory; random: Random },
  count: number,
  shares: { fresh: number; duplicate: number } = { fresh: 0.4, duplicate: 0.3 },
): (GeneratedRegistration & { fresh: boolean })[] {
  const { customers, factory, random } = stored;
  const out: (GeneratedRegistration & { fresh: boolean })[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random.next();
    if (roll < shares.fresh) {
      const customer = factory.customer();
      out.push({
        customer: customer.id,
        kind: 'original',
        expect: 'exact',
        registration: registrationOf(customer, random),
        fresh: true,
      });
    } else {
      const customer = random.pick(customers);
      const row =
        roll < shares.fresh + shares.duplicate
          ? duplicateOf(customer, random)
          : variantOf(customer, random, factory);
      out.push({ ...row, fresh: false });
    }
  }
  return out;
}
