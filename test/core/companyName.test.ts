import fc from 'fast-check';
import * as OpenCC from 'opencc-js';
import { describe, expect, it } from 'vitest';
import {
  cleanCompanyName,
  companyKey,
  companyKeyParts,
  companyNameSimilarity,
  diceCoefficient,
  nameBigrams,
  splitCompanyKey,
} from '../../core/companyName.js';
import { findRegions, regionContains } from '../../core/regions.js';

const SEED = 20261123;

describe('cleanCompanyName', () => {
  it.each([
    [' 合肥光桥 贸易有限公司 ', '合肥光桥贸易有限公司'],
    ['华信科技(上海)有限公司', '华信科技（上海）有限公司'],
    ['华信科技【上海】有限公司', '华信科技（上海）有限公司'],
    ['华信科技 （ 上海 ） 有限公司', '华信科技（上海）有限公司'],
    ['ＡＢＣ科技有限公司', 'ABC科技有限公司'],
    ['华信\u3000科技\t有限公司', '华信科技有限公司'],
    ['Acme   Trading  Co., Ltd.', 'Acme Trading Co., Ltd.'],
    ['王  磊', '王磊'],
    ['\u200b华信科技\ufeff', '华信科技'],
  ])('%j → %j', (raw, clean) => {
    expect(cleanCompanyName(raw)).toBe(clean);
  });
});

describe('companyKey', () => {
  it('gives one key to the 华信科技 trio: bracketed region, 市 prefix, bare prefix without legal form', () => {
    expect(companyKey('华信科技（上海）有限公司')).toBe('上海|华信科技');
    expect(companyKey('上海市华信科技有限公司')).toBe('上海|华信科技');
    expect(companyKey('上海华信科技')).toBe('上海|华信科技');
  });

  it('keeps the region as identity: 北京华信科技有限公司 is another company', () => {
    expect(companyKey('北京华信科技有限公司')).toBe('北京|华信科技');
    expect(companyKey('北京华信科技有限公司')).not.toBe(companyKey('上海华信科技有限公司'));
  });

  it('keeps a branch apart from its parent company', () => {
    const branch = companyKey('上海华信科技有限公司北京分公司');
    expect(branch).not.toBe(companyKey('上海华信科技有限公司'));
    expect(branch).toBe('上海|华信科技#北京分公司');
    expect(companyKey('上海华信科技有限公司北京市分公司')).toBe(branch);
    expect(companyKey('上海华信科技有限公司（北京分公司）')).toBe(branch);
    expect(companyKey('上海华信科技有限公司上海分公司')).not.toBe(branch);
    expect(companyKey('华信科技北京分公司')).toBe('|华信科技#北京分公司');
    expect(companyKey('华信商贸有限公司中山路分店')).toBe('|华信商贸#中山路分店');
  });

  it('reads traditional characters as simplified: 華信科技（上海）有限公司', () => {
    expect(companyKey('華信科技（上海）有限公司')).toBe('上海|华信科技');
    expect(companyKey('廣東省深圳市華信科技股份有限公司')).toBe('深圳|华信科技');
  });

  it.each([
    // legal forms
    ['华信科技有限公司', '|华信科技'],
    ['华信科技有限责任公司', '|华信科技'],
    ['华信科技股份有限公司', '|华信科技'],
    ['华信科技集团有限公司', '|华信科技'],
    ['华信科技集团股份有限公司', '|华信科技'],
    ['华信科技（集团）有限公司', '|华信科技'],
    ['华信科技集团', '|华信科技'],
    ['华信科技总公司', '|华信科技'],
    ['华信投资合伙企业（有限合伙）', '|华信投资'],
    ['华信设计工作室', '|华信设计'],
    // regions: province + city, district, county-level city, autonomous prefecture
    ['广东省深圳市华信科技有限公司', '深圳|华信科技'],
    ['广东深圳华信科技有限公司', '深圳|华信科技'],
    ['深圳市华信科技有限公司', '深圳|华信科技'],
    ['上海市浦东新区华信科技有限公司', '上海|华信科技'],
    ['北京市朝阳区华信科技有限公司', '北京|华信科技'],
    ['江苏省昆山市华信科技有限公司', '昆山|华信科技'],
    ['昆山华信科技有限公司', '昆山|华信科技'],
    ['延边朝鲜族自治州华信商贸有限公司', '延边|华信商贸'],
    ['延边州华信商贸有限公司', '延边|华信商贸'],
    ['吉林市华信科技', '吉林|华信科技'],
    ['吉林省吉林市华信科技', '吉林|华信科技'],
    ['浙江华信科技有限公司', '浙江|华信科技'],
    ['新疆维吾尔自治区华信科技有限公司', '新疆|华信科技'],
    ['华信科技（深圳）有限公司', '深圳|华信科技'],
    ['华信科技(深圳市)有限公司', '深圳|华信科技'],
    ['华信科技（广东深圳）有限公司', '深圳|华信科技'],
    // a bracket that is not a region stays part of the name
    ['阿里巴巴（中国）有限公司', '|阿里巴巴中国'],
    // Latin names
    ['Acme Trading Co., Ltd.', '|acmetrading'],
    ['ACME TRADING CO LTD', '|acmetrading'],
    ['Acme Trading Inc.', '|acmetrading'],
    ['Acme Trading, LLC', '|acmetrading'],
    ['ＡＣＭＥ Trading Limited', '|acmetrading'],
    // individuals
    ['朱勇', '|朱勇'],
    ['朱 勇', '|朱勇'],
    ['欧阳晓明', '|欧阳晓明'],
  ])('%s → %s', (name, key) => {
    expect(companyKey(name)).toBe(key);
  });

  it('does not take a region that would leave less than two characters of name', () => {
    expect(companyKey('上海')).toBe('|上海');
    expect(companyKey('上海公司')).toBe('|上海');
    expect(companyKey('金华强')).toBe('|金华强');
    expect(companyKey('中山')).toBe('|中山');
  });

  it('does not read a smaller place of the same name as the city (朝阳区 is Beijing, not 朝阳市)', () => {
    expect(companyKey('朝阳区华信科技')).not.toBe(companyKey('朝阳市华信科技'));
    expect(companyKey('朝阳市华信科技')).toBe('朝阳|华信科技');
  });

  it('needs the suffix for prefectures whose short name is an ordinary word (阿里地区, not 阿里巴巴)', () => {
    expect(companyKey('阿里巴巴网络技术有限公司')).toBe('|阿里巴巴网络技术');
    expect(companyKey('阿里地区华信商贸有限公司')).toBe('阿里|华信商贸');
  });

  it('keeps a leading region that is not the bracketed one as part of the name', () => {
    expect(companyKey('北京华信（上海）有限公司')).toBe('上海|北京华信');
    expect(companyKey('上海华信（上海）有限公司')).toBe('上海|华信');
    expect(companyKey('广东华信（深圳）有限公司')).toBe('深圳|华信');
  });

  it('keeps unrelated names apart even when one starts like a city', () => {
    const names = [
      '中山大学',
      '中山华信',
      '上海区块链科技有限公司',
      '上海华信',
      '华信',
      '北京华信',
      '大连华信',
    ];
    const keys = names.map(companyKey);
    expect(new Set(keys).size).toBe(names.length);
  });

  // Legacy sheets decorate names: a star for a key account, quotes around the name (issue: marks).
  it.each([
    '★上海华信科技有限公司',
    '☆上海华信科技有限公司',
    '●上海华信科技有限公司',
    '※上海华信科技有限公司',
    '上海华信科技有限公司★',
    '“上海华信科技有限公司”',
    '‘上海华信科技有限公司’',
    '"上海华信科技有限公司"',
    "'上海华信科技有限公司'",
    '「上海华信科技有限公司」',
    '『上海华信科技有限公司』',
    '《上海华信科技有限公司》',
    '★“华信科技（上海）有限公司”',
    '* 上海市华信科技有限公司 *',
  ])('a mark or quote around the name does not change its key: %j', (decorated) => {
    expect(companyKey(decorated)).toBe('上海|华信科技');
  });

  // A mark in brackets of its own (【★】 is a key account on some sheets) leaves the brackets empty.
  it.each([
    '上海华信科技有限公司（★）',
    '上海华信科技有限公司【★】',
    '【★】上海华信科技有限公司',
    '(※)华信科技（上海）有限公司',
  ])('a mark in brackets of its own does not change the key either: %j', (decorated) => {
    expect(companyKey(decorated)).toBe('上海|华信科技');
  });

  it('a mark around a branch or a Latin name does not change its key either', () => {
    expect(companyKey('★上海华信科技有限公司北京分公司')).toBe(companyKey('上海华信科技有限公司北京分公司'));
    expect(companyKey('“华信科技有限公司（北京分公司）”')).toBe(companyKey('华信科技有限公司（北京分公司）'));
    expect(companyKey('★"Acme Trading Co., Ltd."')).toBe(companyKey('Acme Trading Co., Ltd.'));
  });

  it('marks never join two different companies: letters, digits and Han characters stay in the key', () => {
    expect(companyKey('★北京华信科技有限公司')).not.toBe(companyKey('★上海华信科技有限公司'));
    expect(companyKey('“华信二号科技有限公司”')).toBe(companyKey('华信二号科技有限公司'));
    expect(companyKey('华信2号科技有限公司')).not.toBe(companyKey('华信3号科技有限公司'));
  });

  it('splitCompanyKey and companyKeyParts agree with the key', () => {
    const name = '上海华信科技有限公司北京分公司';
    expect(splitCompanyKey(companyKey(name))).toEqual(companyKeyParts(name));
    expect(splitCompanyKey('|朱勇')).toEqual({ region: '', core: '朱勇', branch: '' });
  });

  it('is idempotent: companyKey(cleanCompanyName(x)) === companyKey(x), and cleaning twice changes nothing', () => {
    const nameChars = fc.constantFrom(
      ...'华信科技上海市（）()【】 　有限公司北京分深圳ＡＢab，.·朝阳区廣東'.split(''),
    );
    fc.assert(
      fc.property(
        fc.array(nameChars, { maxLength: 20 }).map((chars) => chars.join('')),
        (raw) => {
          const clean = cleanCompanyName(raw);
          expect(cleanCompanyName(clean)).toBe(clean);
          expect(companyKey(clean)).toBe(companyKey(raw));
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  describe('formatting variants of one company give one key', () => {
    const CITIES: Record<string, string | null> = {
      上海: null,
      北京: null,
      重庆: null,
      深圳: '广东',
      广州: '广东',
      杭州: '浙江',
      合肥: '安徽',
      苏州: '江苏',
      南京: '江苏',
      成都: '四川',
      武汉: '湖北',
      厦门: '福建',
      青岛: '山东',
    };
    // Trade-name characters that start no region name, so the expected key is known.
    const tradeName = fc
      .array(fc.constantFrom(...'华信博远德云光桥鑫普睿同卓众拓'.split('')), { minLength: 2, maxLength: 4 })
      .map((chars) => chars.join(''));
    const industry = fc.constantFrom('', '科技', '贸易', '网络科技', '精密制造', '电气');
    const legalForm = fc.constantFrom(
      '',
      '有限公司',
      '有限责任公司',
      '股份有限公司',
      '集团有限公司',
      '集团',
      '公司',
    );
    const toTraditional = OpenCC.Converter({ from: 'cn', to: 'hk' });

    it('region as prefix with or without 市 or province, as bracket; legal forms; spaces; brackets; traditional', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...Object.keys(CITIES)),
          tradeName,
          industry,
          legalForm,
          fc.constantFrom('bare', 'city', 'province', 'bracket', 'halfBracket'),
          fc.array(fc.constantFrom('', '', '', ' ', '\u3000'), { minLength: 30, maxLength: 30 }),
          fc.boolean(),
          (city, trade, business, form, style, spaces, traditional) => {
            const core = trade + business;
            const province = CITIES[city] ?? null;
            let name: string;
            if (style === 'bare') name = city + core + form;
            else if (style === 'city') name = `${city}市${core}${form}`;
            else if (style === 'province')
              name = `${province === null ? '' : `${province}省`}${city}市${core}${form}`;
            else if (style === 'bracket') name = `${core}（${city}）${form}`;
            else name = `${core}(${city}市)${form}`;
            const spaced = [...name].map((ch, i) => ch + (spaces[i] ?? '')).join('');
            const written = ` ${traditional ? toTraditional(spaced) : spaced} `;
            expect(companyKey(written)).toBe(`${city}|${core}`);
          },
        ),
        { seed: SEED, numRuns: 1000 },
      );
    });
  });
});

describe('companyNameSimilarity', () => {
  it('is 1 for equal keys and 0 for different regions', () => {
    expect(companyNameSimilarity('上海|华信科技', '上海|华信科技')).toBe(1);
    expect(
      companyNameSimilarity(companyKey('北京华信科技有限公司'), companyKey('上海华信科技有限公司')),
    ).toBe(0);
  });

  it('treats a province and a city in it as agreeing', () => {
    expect(companyNameSimilarity(companyKey('广东华信科技'), companyKey('深圳华信科技'))).toBe(1);
    expect(regionContains('广东', '深圳')).toBe(true);
    expect(regionContains('江苏', '昆山')).toBe(true);
    expect(regionContains('广东', '杭州')).toBe(false);
  });

  it('is high for near spellings and low for unrelated names', () => {
    // One character of six differs: 3 of 5 bigrams shared each way.
    const typo = companyNameSimilarity(
      companyKey('上海华信网络科技有限公司'),
      companyKey('上海华信网路科技有限公司'),
    );
    expect(typo).toBeCloseTo(0.6, 10);
    const longer = companyNameSimilarity(
      companyKey('华信网络科技服务有限公司'),
      companyKey('华信网络科技有限公司'),
    );
    expect(longer).toBeCloseTo(10 / 12, 10);
    expect(companyNameSimilarity(companyKey('上海华信科技'), companyKey('上海博远贸易'))).toBe(0);
  });

  it('compares a region-less key with the region-prefixed core of the other', () => {
    // A key whose region stayed in the core (too short a remainder, an unlisted place) still meets its twin.
    expect(companyNameSimilarity('|上海华信', '上海|华信')).toBe(1);
  });

  it('compares single-character cores by the character', () => {
    expect(diceCoefficient(nameBigrams('|a'), nameBigrams('|a'))).toBe(1);
    expect(nameBigrams('|a')).toEqual(['a']);
  });

  const keyArb = fc
    .record({
      region: fc.constantFrom('', '上海', '北京', '广东', '深圳'),
      core: fc.array(fc.constantFrom(...'华信科技博远上海'.split('')), { minLength: 1, maxLength: 6 }),
      branch: fc.constantFrom('', '北京分公司'),
    })
    .map(({ region, core, branch }) => `${region}|${core.join('')}${branch === '' ? '' : `#${branch}`}`);

  it('is symmetric and within 0..1', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const ab = companyNameSimilarity(a, b);
        expect(ab).toBe(companyNameSimilarity(b, a));
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('never misses a candidate through bigram blocking: similar keys share a bigram', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        if (companyNameSimilarity(a, b) === 0) return;
        const shared = nameBigrams(a).filter((gram) => nameBigrams(b).includes(gram));
        expect(shared.length).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('regions', () => {
  it('knows provinces, prefecture-level cities, autonomous prefectures and districts', () => {
    expect(findRegions('广东').map((r) => r.level)).toEqual(['province']);
    expect(findRegions('深圳')[0]).toEqual({ name: '深圳', level: 'prefecture', parent: '广东' });
    expect(findRegions('延边')[0]?.parent).toBe('吉林');
    expect(findRegions('浦东新')[0]).toEqual({ name: '浦东新', level: 'district', parent: '上海' });
    expect(
      findRegions('吉林')
        .map((r) => r.level)
        .sort(),
    ).toEqual(['prefecture', 'province']);
    expect(findRegions('华信')).toEqual([]);
  });
});
