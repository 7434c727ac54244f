/**
 * The add-in manifest: well-formed, elements in the schema's order, what Office requires present,
 * every URL on the service, readable by office-addin-manifest; and served by the service with its
 * own public URL substituted (BAOBEI_PUBLIC_URL, else the request's origin, HTTPS included).
 */
import { writeSelfSignedCertificate } from './support/selfSignedCertificate.js';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { OfficeAddinManifest } from 'office-addin-manifest';
import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addinRoutes,
  MANIFEST_DEV_ORIGIN,
  manifestIdFor,
  OFFICE_JS_CDN,
} from '../server/http/addinRoutes.js';
import { startTestService, type TestService } from './support/testService.js';

const REPO = path.resolve(import.meta.dirname, '..');
const MANIFEST = path.join(REPO, 'manifest.xml');

const NS_OFFICEAPP = 'http://schemas.microsoft.com/office/appforoffice/1.1';
const NS_OVERRIDES = 'http://schemas.microsoft.com/office/taskpaneappversionoverrides';
const NS_BASIC = 'http://schemas.microsoft.com/office/officeappbasictypes/1.0';
const NS_XSI = 'http://www.w3.org/2001/XMLSchema-instance';

interface XmlElement {
  local: string;
  uri: string;
  /** By qualified name as written (`xsi:type`, `DefaultValue`). */
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses with saxes (namespaces on); throws on anything that is not well-formed. */
function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('error', (err) => {
    throw err;
  });
  parser.on('opentag', (tag) => {
    const element: XmlElement = {
      local: tag.local,
      uri: tag.uri,
      attributes: Object.fromEntries(Object.values(tag.attributes).map((a) => [a.name, a.value])),
      children: [],
      text: '',
    };
    stack.at(-1)?.children.push(element);
    root ??= element;
    stack.push(element);
  });
  parser.on('text', (text) => {
    const top = stack.at(-1);
    if (top) top.text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

function child(element: XmlElement, local: string): XmlElement {
  const found = element.children.find((c) => c.local === local);
  if (!found) throw new Error(`<${element.local}> has no <${local}>`);
  return found;
}

function childNames(element: XmlElement): string[] {
  return element.children.map((c) => c.local);
}

function descendants(element: XmlElement): XmlElement[] {
  return element.children.flatMap((c) => [c, ...descendants(c)]);
}

/** True when `names` appear in the order `schema` gives (each name known to the schema). */
function inSchemaOrder(names: string[], schema: readonly string[]): boolean {
  const positions = names.map((n) => schema.indexOf(n));
  return positions.every((p, i) => p >= 0 && (i === 0 || p >= positions[i - 1]!));
}

/** OfficeApp's children for a TaskPaneApp, in the order of the taskpane XSD. */
const OFFICEAPP_ORDER = [
  'Id',
  'AlternateId',
  'Version',
  'ProviderName',
  'DefaultLocale',
  'DisplayName',
  'Description',
  'IconUrl',
  'HighResolutionIconUrl',
  'SupportUrl',
  'AppDomains',
  'Hosts',
  'Requirements',
  'DefaultSettings',
  'Permissions',
  'Dictionary',
  'VersionOverrides',
] as const;
const OFFICEAPP_REQUIRED = [
  'Id',
  'Version',
  'ProviderName',
  'DefaultLocale',
  'DisplayName',
  'Description',
  'IconUrl',
  'HighResolutionIconUrl',
  'Hosts',
  'Requirements',
  'DefaultSettings',
  'Permissions',
  'VersionOverrides',
];
const VERSION_OVERRIDES_ORDER = ['Description', 'Requirements', 'Hosts', 'Resources', 'WebApplicationInfo'];
const DESKTOP_ORDER = ['GetStarted', 'FunctionFile', 'ExtensionPoint'];
const CONTROL_ORDER = ['Label', 'Supertip', 'Icon', 'Action'];
const SHOW_TASKPANE_ORDER = ['TaskpaneId', 'SourceLocation', 'Title'];
const RESOURCES_ORDER = ['Images', 'Urls', 'ShortStrings', 'LongStrings'];

/** Every URL in the manifest: URL-valued attributes and AppDomain texts. */
function manifestUrls(root: XmlElement): string[] {
  const urls: string[] = [];
  for (const element of descendants(root)) {
    for (const [name, value] of Object.entries(element.attributes)) {
      if ((name === 'DefaultValue' || name === 'Value') && /^[a-z]+:\/\//i.test(value)) urls.push(value);
    }
    if (element.local === 'AppDomain') urls.push(element.text.trim());
  }
  return urls;
}

describe('manifest.xml', () => {
  let xml: string;
  let root: XmlElement;
  beforeAll(async () => {
    xml = await readFile(MANIFEST, 'utf8');
    root = parseXml(xml);
  });

  it('is well-formed XML: a TaskPaneApp OfficeApp in the 1.1 namespace', () => {
    expect(root.local).toBe('OfficeApp');
    expect(root.uri).toBe(NS_OFFICEAPP);
    expect(root.attributes['xsi:type']).toBe('TaskPaneApp');
    expect(root.attributes['xmlns:xsi']).toBe(NS_XSI);
    expect(() => parseXml(xml.replace('</Hosts>', ''))).toThrow();
  });

  it('lists OfficeApp children in schema order, with every required one', () => {
    const names = childNames(root);
    expect(inSchemaOrder(names, OFFICEAPP_ORDER), names.join(' ')).toBe(true);
    for (const name of OFFICEAPP_REQUIRED) expect(names).toContain(name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('is the Excel task pane: fixed GUID, Workbook host, ExcelApi 1.9, ReadWriteDocument', () => {
    expect(child(root, 'Id').text).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(child(root, 'Version').text).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(child(root, 'DefaultLocale').text).toBe('zh-CN');
    expect(child(root, 'Hosts').children.map((h) => h.attributes['Name'])).toEqual(['Workbook']);
    const sets = child(child(root, 'Requirements'), 'Sets');
    expect(sets.attributes['DefaultMinVersion']).toBe('1.9');
    expect(sets.children.map((s) => [s.attributes['Name'], s.attributes['MinVersion']])).toEqual([
      ['ExcelApi', '1.9'],
    ]);
    expect(child(child(root, 'DefaultSettings'), 'SourceLocation').attributes['DefaultValue']).toBe(
      `${MANIFEST_DEV_ORIGIN}/addin/taskpane.html`,
    );
    expect(child(root, 'Permissions').text).toBe('ReadWriteDocument');
    expect(child(root, 'IconUrl').attributes['DefaultValue']).toMatch(/icon-32\.png$/);
    expect(child(root, 'HighResolutionIconUrl').attributes['DefaultValue']).toMatch(/icon-64\.png$/);
  });

  it('adds a 报备 ribbon button that opens the task pane, its elements in schema order', () => {
    const overrides = child(root, 'VersionOverrides');
    expect(overrides.uri).toBe(NS_OVERRIDES);
    expect(overrides.attributes['xsi:type']).toBe('VersionOverridesV1_0');
    expect(inSchemaOrder(childNames(overrides), VERSION_OVERRIDES_ORDER)).toBe(true);

    const host = child(child(overrides, 'Hosts'), 'Host');
    expect(host.attributes['xsi:type']).toBe('Workbook');
    const desktop = child(host, 'DesktopFormFactor');
    expect(inSchemaOrder(childNames(desktop), DESKTOP_ORDER)).toBe(true);
    const controls = descendants(desktop).filter((e) => e.local === 'Control');
    expect(controls).toHaveLength(1);
    const button = controls[0]!;
    expect(button.attributes['xsi:type']).toBe('Button');
    expect(inSchemaOrder(childNames(button), CONTROL_ORDER)).toBe(true);
    const action = child(button, 'Action');
    expect(action.attributes['xsi:type']).toBe('ShowTaskpane');
    expect(inSchemaOrder(childNames(action), SHOW_TASKPANE_ORDER)).toBe(true);
    expect(child(button, 'Icon').children.map((i) => i.attributes['size'])).toEqual(['16', '32', '80']);

    const resources = child(overrides, 'Resources');
    expect(inSchemaOrder(childNames(resources), RESOURCES_ORDER)).toBe(true);
    for (const group of resources.children) expect(group.uri).toBe(NS_BASIC);
    const byId = new Map(
      resources.children.flatMap((group) =>
        group.children.map((r) => [r.attributes['id'] ?? '', { group: group.local, element: r }] as const),
      ),
    );
    // Every resid points at a resource of the right kind.
    for (const element of descendants(host)) {
      const resid = element.attributes['resid'];
      if (resid === undefined) continue;
      expect(byId.has(resid), `resid ${resid}`).toBe(true);
    }
    const label = byId.get(child(button, 'Label').attributes['resid']!);
    expect(label?.group).toBe('ShortStrings');
    expect(label?.element.attributes['DefaultValue']).toBe('报备');
    const source = byId.get(child(action, 'SourceLocation').attributes['resid']!);
    expect(source?.group).toBe('Urls');
    expect(source?.element.attributes['DefaultValue']).toBe(`${MANIFEST_DEV_ORIGIN}/addin/taskpane.html`);
    // Office refuses longer strings.
    for (const { group, element } of byId.values()) {
      const limit = group === 'ShortStrings' ? 125 : group === 'LongStrings' ? 250 : 2048;
      expect(element.attributes['DefaultValue']!.length).toBeLessThanOrEqual(limit);
    }
  });

  it('puts every URL on the service origin, at files the build serves', () => {
    const urls = manifestUrls(root);
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) {
      expect(new URL(url).origin, url).toBe(MANIFEST_DEV_ORIGIN);
      const pathname = new URL(url).pathname;
      if (pathname === '/') continue;
      expect(pathname.startsWith('/addin/'), url).toBe(true);
      // /addin/x is built from addin/x (pages and icons are copied as they are).
      expect(existsSync(path.join(REPO, pathname.slice(1))), url).toBe(true);
    }
    expect(child(child(root, 'AppDomains'), 'AppDomain').text).toBe(MANIFEST_DEV_ORIGIN);
  });

  it('is read by office-addin-manifest', async () => {
    const info = await OfficeAddinManifest.readManifestFile(MANIFEST);
    expect(info.id).toBe(child(root, 'Id').text);
    expect(info.officeAppType).toBe('TaskPaneApp');
    expect(info.hosts).toEqual(['Workbook']);
    expect(info.permissions).toBe('ReadWriteDocument');
    expect(info.defaultLocale).toBe('zh-CN');
    expect(info.displayName).toBe('报备');
    expect(info.defaultSettings?.sourceLocation).toBe(`${MANIFEST_DEV_ORIGIN}/addin/taskpane.html`);
    expect(info.appDomains).toEqual([MANIFEST_DEV_ORIGIN]);
  });
});

/** A bare app with only the add-in routes, on a random port. */
async function serveAddinRoutes(
  options: Parameters<typeof addinRoutes>[0],
  trustProxy: boolean | string = false,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use('/addin', addinRoutes(options));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the manifest and the task pane, served', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service?.close();
  });

  it('GET /addin/manifest.xml puts BAOBEI_PUBLIC_URL in place of the development origin', async () => {
    const served = await serveAddinRoutes({ publicUrl: 'https://baobei.example.com/' });
    try {
      const res = await fetch(`${served.url}/addin/manifest.xml`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
      const xml = await res.text();
      expect(xml).not.toContain('localhost:3000');
      const urls = manifestUrls(parseXml(xml));
      for (const url of urls) expect(new URL(url).origin).toBe('https://baobei.example.com');
      expect(xml).toContain('https://baobei.example.com/addin/taskpane.html');
    } finally {
      await served.close();
    }
  });

  it('without a public URL, the running service puts the origin the request came to', async () => {
    const res = await fetch(`${service.url}/addin/manifest.xml`);
    expect(res.status).toBe(200);
    const origin = new URL(service.url).origin;
    const urls = manifestUrls(parseXml(await res.text()));
    for (const url of urls) expect(new URL(url).origin).toBe(origin);
  });

  it('refuses a Host header that is not a host name (it would go into the XML)', async () => {
    const served = await serveAddinRoutes({});
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${served.url}/addin/manifest.xml`,
          { headers: { host: 'evil"><x>' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(400);
    } finally {
      await served.close();
    }
  });

  it('loads office.js from Microsoft by default; the package copy only with BAOBEI_OFFICE_JS=local', async () => {
    // The stale npm copy is not served at all in production.
    expect((await fetch(`${service.url}/addin/vendor/office.js`)).status).toBe(404);
    const local = await startTestService({ env: { BAOBEI_OFFICE_JS: 'local' } });
    try {
      const res = await fetch(`${local.url}/addin/vendor/office.js`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
      expect((await res.text()).length).toBeGreaterThan(10_000);
      const strings = await fetch(`${local.url}/addin/vendor/zh-cn/office_strings.js`);
      expect(strings.status).toBe(200);
      expect((await fetch(`${local.url}/addin/vendor/nope.js`)).status).toBe(404);
      expect(local.logText()).toContain('addin.office_js_local');
    } finally {
      await local.close();
    }
    expect(service.logText()).not.toContain('addin.office_js_local');
  });

  it('the CSP lets scripts come from the service and from Microsoft’s office.js origin, nothing else', async () => {
    const res = await fetch(`${service.url}/addin/manifest.xml`);
    const csp = res.headers.get('content-security-policy') ?? '';
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'));
    expect(scriptSrc?.trim().split(/\s+/).slice(1).sort()).toEqual(
      ["'self'", new URL(OFFICE_JS_CDN).origin].sort(),
    );
    // Over plain HTTP (a LAN address) upgrade-insecure-requests would break the pane.
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('refuses to serve a manifest naming plain http off localhost, saying how to fix it', async () => {
    const served = await serveAddinRoutes({ publicUrl: 'http://baobei.lan:3000' });
    try {
      const res = await fetch(`${served.url}/addin/manifest.xml`);
      expect(res.status).toBe(409);
      const text = await res.text();
      expect(text).toContain('https://');
      expect(text).toContain('BAOBEI_PUBLIC_URL');
      expect(text).toContain('BAOBEI_TRUST_PROXY');
    } finally {
      await served.close();
    }
    const lan = await serveAddinRoutes({});
    try {
      const port = new URL(lan.url).port;
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get(`${lan.url}/addin/manifest.xml`, { headers: { host: `192.168.1.20:${port}` } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
      expect(status).toBe(409);
    } finally {
      await lan.close();
    }
  });

  it('behind a trusted TLS proxy, names the https origin from X-Forwarded-Proto/Host; an untrusted proxy is ignored', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'baobei.example.com' };
    const trusted = await serveAddinRoutes({}, 'loopback');
    try {
      const res = await fetch(`${trusted.url}/addin/manifest.xml`, { headers: forwarded });
      expect(res.status).toBe(200);
      const urls = manifestUrls(parseXml(await res.text()));
      for (const url of urls) expect(new URL(url).origin).toBe('https://baobei.example.com');
    } finally {
      await trusted.close();
    }
    const untrusted = await serveAddinRoutes({}, false);
    try {
      const res = await fetch(`${untrusted.url}/addin/manifest.xml`, { headers: forwarded });
      expect(res.status).toBe(200);
      const urls = manifestUrls(parseXml(await res.text()));
      for (const url of urls) expect(new URL(url).origin).toBe(untrusted.url);
    } finally {
      await untrusted.close();
    }
  });

  it('gives each deployment its own stable manifest Id, or the one set in BAOBEI_MANIFEST_ID', async () => {
    const idOf = async (options: Parameters<typeof addinRoutes>[0]) => {
      const served = await serveAddinRoutes(options);
      try {
        const xml = await (await fetch(`${served.url}/addin/manifest.xml`)).text();
        return /<Id>([^<]+)<\/Id>/.exec(xml)?.[1];
      } finally {
        await served.close();
      }
    };
    const production = await idOf({ publicUrl: 'https://baobei.example.com' });
    const staging = await idOf({ publicUrl: 'https://staging.baobei.example.com' });
    expect(production).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(staging).not.toBe(production);
    expect(await idOf({ publicUrl: 'https://baobei.example.com/' })).toBe(production);
    expect(manifestIdFor('https://baobei.example.com')).toBe(production);
    const explicit = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(await idOf({ publicUrl: 'https://baobei.example.com', manifestId: explicit })).toBe(explicit);
    // The development origin keeps the Id checked in with manifest.xml.
    const file = /<Id>([^<]+)<\/Id>/.exec(readFileSync(path.join(REPO, 'manifest.xml'), 'utf8'))?.[1];
    expect(await idOf({ publicUrl: MANIFEST_DEV_ORIGIN })).toBe(file);
  });

  it('answers 503 with the build command when the task pane is not built', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'baobei-addin-'));
    const served = await serveAddinRoutes({ distDir: empty, officeJs: 'local' });
    try {
      const res = await fetch(`${served.url}/addin/taskpane.html`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:addin');
      // The manifest and office.js do not depend on the build.
      expect((await fetch(`${served.url}/addin/manifest.xml`)).status).toBe(200);
      expect((await fetch(`${served.url}/addin/vendor/office.js`)).status).toBe(200);
    } finally {
      await served.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('serves HTTPS with BAOBEI_TLS_CERT/KEY, and the manifest then names the https origin', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baobei-tls-'));
    const { cert, key } = writeSelfSignedCertificate(dir, 'localhost');
    const tls = await startTestService({ env: { BAOBEI_TLS_CERT: cert, BAOBEI_TLS_KEY: key } });
    try {
      expect(tls.url).toMatch(/^https:\/\/localhost:\d+$/);
      const port = new URL(tls.url).port;
      const xml = await new Promise<string>((resolve, reject) => {
        https
          .get(
            {
              host: '127.0.0.1',
              port,
              path: '/addin/manifest.xml',
              headers: { host: `localhost:${port}` },
              rejectUnauthorized: false,
            },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (body += chunk));
              res.on('end', () => resolve(body));
            },
          )
          .on('error', reject);
      });
      expect(xml).toContain(`https://localhost:${port}/addin/taskpane.html`);
    } finally {
      await tls.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
