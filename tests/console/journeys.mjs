// The console as its people use it, in a real browser against the real daemon: elements
// are found by role and accessible name, as a screen reader finds them. Run by
// tests/integration/test_console.py, which starts the daemon and checks the database.
import assert from 'node:assert/strict';
import {
  api, base, check, config, heading, launch, person, run, signIn, snap, until,
} from './lib.mjs';

const { users } = config;
const browser = await launch();
const officer = await person(browser);
const state = {};

const csv = [
  'external_ref,first_name,phone,borough,landlord,tags',
  'C-1,Sam,07700 900301,Thanet,Orbit,older',
  'C-2,Ann,07700 900302,Thanet,Golding Homes,older;carer',
  'C-3,Bob,01632 960123,Thanet,Orbit,',
  'C-4,Cai,07700 900304,Maidstone,West Kent,carer',
].join('\n');

async function message(page, text) {
  const body = page.getByLabel('Message', { exact: true });
  await body.fill(text);
}

async function previewSays(page, re) {
  await until(async () => re.test(await page.getByRole('complementary', { name: 'Preview' }).innerText()), `the preview to say ${re}`, 15000);
}

const steps = [
  ['sign-in page and its errors', async () => {
    await officer.goto(`${base}/console/`);
    await heading(officer, 'Sign in');
    await check(officer, 'sign-in');
    await officer.getByRole('button', { name: 'Sign in' }).click();
    await officer.getByRole('heading', { name: 'There is a problem' }).waitFor();
    await officer.getByRole('link', { name: 'Enter your email address' }).waitFor();
    await check(officer, 'sign-in-errors');
    await officer.getByLabel('Email address').fill(users.officer.email);
    await officer.getByLabel('Password', { exact: true }).fill('not the password at all');
    await officer.getByRole('button', { name: 'Sign in' }).click();
    await officer.getByRole('link', { name: /Enter a correct email address and password/ }).waitFor();
    assert.equal(await officer.getByLabel('Email address').inputValue(), users.officer.email, 'the email stays in the box');
  }],

  ['sign in with the keyboard alone', async () => {
    await officer.goto(`${base}/console/sign-in`);
    await heading(officer, 'Sign in');
    for (let i = 0; i < 12 && await officer.evaluate(() => document.activeElement.id) !== 'email'; i++) {
      await officer.keyboard.press('Tab');
    }
    assert.equal(await officer.evaluate(() => document.activeElement.id), 'email');
    await officer.keyboard.type(users.officer.email);
    await officer.keyboard.press('Tab');
    await officer.keyboard.type(users.officer.password);
    await officer.keyboard.press('Enter');
    await heading(officer, 'Campaigns');
    // Along the menu to Help requests, and Enter.
    for (let i = 0; i < 20 && await officer.evaluate(() => document.activeElement.textContent.trim()) !== 'Help requests'; i++) {
      await officer.keyboard.press('Tab');
    }
    await officer.keyboard.press('Enter');
    await heading(officer, 'Help requests');
    assert.equal(await officer.evaluate(() => document.activeElement.tagName), 'H1', 'focus moves to the new page');
  }],

  ['upload a spreadsheet with a bad row', async () => {
    await officer.getByRole('link', { name: 'Tenants' }).click();
    await heading(officer, 'Tenants');
    await check(officer, 'tenants-empty');
    await officer.getByRole('button', { name: 'Upload a spreadsheet' }).click();
    await heading(officer, 'Upload a spreadsheet');
    await officer.getByRole('button', { name: 'Upload' }).click();
    await officer.getByRole('link', { name: 'Select a CSV file' }).waitFor();
    await check(officer, 'upload-errors');
    await officer.getByLabel('Spreadsheet (CSV)').setInputFiles({ name: 'tenants.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await officer.getByRole('button', { name: 'Upload' }).click();
    await heading(officer, 'Upload finished: some rows were not used');
    const rows = officer.getByRole('table', { name: 'Rows not used' }).getByRole('row');
    assert.equal(await rows.count(), 2);
    const bad = await rows.nth(1).innerText();
    assert.match(bad, /^4\s/, 'the bad row is line 4 (the header is line 1)');
    assert.match(bad, /landline/);
    await check(officer, 'upload-result');
  }],

  ['find a tenant', async () => {
    await officer.getByRole('link', { name: 'see the tenants' }).click();
    await officer.getByLabel('Search by name, reference or phone number').fill('900302');
    await officer.getByRole('button', { name: 'Search' }).click();
    await officer.getByRole('table', { name: 'Tenants matching “900302”' }).waitFor();
    await check(officer, 'tenants-search');
    await officer.getByRole('link', { name: 'Ann' }).click();
    await heading(officer, 'Ann');
    await officer.getByText('07700 900302').waitFor();
    await check(officer, 'tenant');
    await officer.getByRole('button', { name: 'Erase' }).click();
    await heading(officer, 'Erase Ann?');
    await officer.getByText('This cannot be undone.').waitFor();
    await check(officer, 'tenant-erase');
    await officer.getByRole('link', { name: 'No, go back' }).click();
    await officer.getByRole('button', { name: 'Opt out' }).click();
    await heading(officer, 'Opt Ann out of texts?');
    await check(officer, 'tenant-opt-out');
    await officer.getByRole('button', { name: 'Yes, opt out' }).click();
    await officer.getByText('Ann is opted out.').waitFor();
    await officer.getByText('Opted out: gets no texts').waitFor();
  }],

  ['build a campaign: the preview follows the message', async () => {
    await officer.getByRole('link', { name: 'Campaigns' }).click();
    await officer.getByRole('button', { name: 'Create campaign' }).click();
    await heading(officer, 'Create campaign');
    await officer.getByLabel('Campaign name').fill('Get online in Thanet');
    await message(officer, 'Hi {first_name|there}, free help getting online near you. Reply SKILLS, or STOP to opt out.');
    await officer.getByRole('group', { name: 'Boroughs' }).getByLabel('Thanet').check();
    await officer.getByRole('group', { name: 'Send days' }).getByLabel('Sunday').check();
    await officer.getByLabel('From').fill('00:00');
    await officer.getByLabel('Until').fill('24:00');
    await previewSays(officer, /Plain text \(GSM-7\) for every tenant/);
    const preview = officer.getByRole('complementary', { name: 'Preview' });
    assert.match(await preview.innerText(), /Tenants who get a text\s+1\b/, 'Sam; Ann opted out, Cai is in Maidstone');
    assert.match(await preview.innerText(), /1 opted out/);
    await check(officer, 'campaign-new');
    // A Welsh ŵ makes every text Unicode, and the preview says which character did it.
    await message(officer, 'Hi {first_name|there}, free help getting online near you. Croeso i bawb: dŵr. Reply SKILLS, or STOP to opt out.');
    await previewSays(officer, /needs? Unicode/);
    assert.match(await preview.innerText(), /ŵ\s*U\+0175/);
    await check(officer, 'campaign-new-unicode');
    await snap(officer, 'readme-campaign', 1280, 820);
    await message(officer, 'Hi {first_name|there}, free help getting online near you. Reply SKILLS, or STOP to opt out.');
    await previewSays(officer, /Plain text \(GSM-7\)/);
    assert.equal(await officer.locator('#longest-text').innerText(),
      'Hi Sam, free help getting online near you. Reply SKILLS, or STOP to opt out.');
  }],

  ['send a test', async () => {
    await officer.getByRole('button', { name: 'Send a test' }).click();
    await officer.getByText(/a test text went to 1 staff number/).waitFor();
    await heading(officer, 'Change Get online in Thanet');
    const sim = await until(async () => {
      const r = await api('GET', '/v1/sim/messages');
      return r.json.items.find((m) => m.to === config.staff_number);
    }, 'the test text at the simulator');
    assert.match(sim.text, /^Hi there, free help/);
    assert.equal(await officer.getByLabel('Campaign name').inputValue(), 'Get online in Thanet', 'the form keeps the draft');
    await check(officer, 'campaign-edit');
  }],

  ['schedule it and watch it complete', async () => {
    await officer.getByRole('button', { name: 'Save draft' }).click();
    await heading(officer, 'Get online in Thanet');
    state.campaignUrl = officer.url();
    await check(officer, 'campaign-draft');
    await officer.getByRole('button', { name: 'Schedule' }).click();
    await officer.getByText('Get online in Thanet is scheduled.').waitFor();
    await officer.getByText('completed', { exact: true }).waitFor({ timeout: 60000 });
    await officer.getByText('2 of 2 done (100%)').waitFor(); // Ann opted out: left out, but done
    const delivered = officer.locator('.sp-funnel__step').nth(1);
    await until(async () => /^1\b/.test(await delivered.innerText()), 'the delivery receipt');
    await check(officer, 'campaign-completed');
  }],

  ['a tenant replies SKILLS through the simulator; a partner user takes it on', async () => {
    const r = await api('POST', '/v1/sim/inbound', { from: config.tenant_phone, text: 'SKILLS' });
    assert.ok(r.status >= 200 && r.status < 300, JSON.stringify(r.json));
    const h = await until(async () => (await api('GET', '/v1/help-requests?state=assigned')).json.items[0], 'the request assigned');
    state.request = h.id;
    const partner = await person(browser);
    await signIn(partner, users.partner1);
    await heading(partner, 'Help requests');
    const nav = await partner.getByRole('navigation', { name: 'Menu' }).getByRole('link').allInnerTexts();
    assert.deepEqual(nav.map((t) => t.trim()), ['Help requests', 'Sign out']);
    await check(partner, 'partner-help-requests');
    await partner.getByRole('link', { name: `Request ${h.id}` }).click();
    await heading(partner, `Request ${h.id}: Digital skills`);
    await check(partner, 'partner-help-request');
    await partner.getByRole('button', { name: 'Accept' }).click();
    await partner.getByText(`You accepted request ${h.id}.`).waitFor();
    await partner.getByRole('button', { name: 'Decline' }).click();
    await heading(partner, 'Decline the request?');
    await check(partner, 'partner-decline');
    await partner.getByRole('link', { name: 'Cancel' }).click();
    await heading(partner, `Request ${h.id}: Digital skills`);
    await partner.getByRole('button', { name: 'Mark contacted' }).click();
    await partner.getByText(`Request ${h.id} is marked contacted.`).waitFor();
    await partner.getByRole('button', { name: 'Resolve' }).click();
    await heading(partner, 'Resolve the request');
    await partner.getByRole('button', { name: 'Resolve' }).click();
    await partner.getByRole('link', { name: 'Select the outcome' }).waitFor();
    await check(partner, 'partner-resolve-errors');
    await partner.getByLabel('Helped').check();
    await partner.getByLabel('Note (optional)').fill('Set up email at the library.');
    await partner.getByRole('button', { name: 'Resolve' }).click();
    await partner.getByText(`Request ${h.id} is resolved.`).waitFor();
    const history = await partner.getByRole('table', { name: 'History' }).innerText();
    assert.match(history, new RegExp(users.partner1.email.replace('.', '\\.')));
    assert.match(history, /Outcome: Helped/);
    await check(partner, 'partner-help-request-resolved');
    await snap(partner, 'readme-help-request-phone', 375, 1000);
    await partner.context().close();
  }],

  ['another partner cannot see it, not even by its address', async () => {
    const other = await person(browser);
    await signIn(other, users.partner2);
    await heading(other, 'Help requests');
    assert.equal(await other.getByRole('link', { name: `Request ${state.request}` }).count(), 0);
    await other.goto(`${base}/console/help-requests/${state.request}`);
    await heading(other, 'Page not found');
    const status = await other.evaluate(async (id) => (await fetch(`/v1/help-requests/${id}`)).status, state.request);
    assert.equal(status, 404);
    await other.goto(`${base}/console/campaigns`);
    await heading(other, 'You cannot see this page');
    other.problems.length = 0;
    await other.context().close();
  }],

  ['outcomes count it', async () => {
    await officer.getByRole('link', { name: 'Outcomes' }).click();
    await heading(officer, 'Outcomes');
    const table = officer.getByRole('table', { name: /^Outcomes from/ });
    const total = await table.getByRole('row', { name: /^Total/ }).innerText();
    const cells = total.split('\t').map((s) => s.trim());
    const head = (await table.getByRole('row').first().innerText()).split('\t').map((s) => s.trim());
    const at = (name) => cells[head.indexOf(name)];
    assert.equal(at('Texted'), '1');
    assert.equal(at('Replied'), '1');
    assert.equal(at('Referred'), '1');
    assert.equal(at('Helped'), '1');
    assert.equal(at('Opted out'), '1');
    await check(officer, 'outcomes');
    await officer.getByLabel('Show by').selectOption('partner');
    await officer.getByRole('button', { name: 'Show' }).click();
    await officer.getByRole('table', { name: /^Outcomes from/ }).getByRole('row', { name: new RegExp(config.partner1_name) }).waitFor();
    await check(officer, 'outcomes-by-partner');
    await officer.goto(`${base}/console/outcomes?by=month&from=2026-12-31&to=2026-01-01`);
    await officer.getByRole('heading', { name: 'There is a problem' }).waitFor();
    assert.equal(await officer.getByLabel('From').inputValue(), '31/12/2026', 'the dates stay in the boxes');
    await check(officer, 'outcomes-errors');
  }],

  ['refer someone', async () => {
    await officer.getByRole('link', { name: 'Help requests' }).click();
    await check(officer, 'help-requests');
    await officer.getByRole('link', { name: 'Waiting for an officer' }).click();
    await heading(officer, 'Waiting for an officer');
    await check(officer, 'help-requests-officers-queue');
    await officer.getByRole('link', { name: 'All help requests' }).click();
    await heading(officer, 'Help requests');
    await officer.getByRole('button', { name: 'Refer someone' }).click();
    await heading(officer, 'Who needs help?');
    await officer.getByRole('button', { name: 'Continue' }).click();
    await officer.getByRole('link', { name: 'Enter their first name' }).waitFor();
    await check(officer, 'refer-person-errors');
    await officer.getByLabel('First name').fill('Jo');
    await officer.getByLabel('Phone number').fill('01632 960555');
    await officer.getByLabel('Borough where they live').fill('Thanet');
    await officer.getByRole('button', { name: 'Continue' }).click();
    let page = 0;
    // Answer each question with its first answer (the last, consent, with Yes).
    for (;;) {
      const legend = officer.locator('legend h1');
      if (await legend.count() === 0) break;
      await check(officer, `refer-step-${++page}`);
      const yes = officer.getByRole('radio', { name: /^Yes/ });
      if (await yes.count()) await yes.check();
      else await officer.getByRole('radio').first().check();
      await officer.getByRole('button', { name: 'Continue' }).click();
      await officer.waitForTimeout(50);
    }
    await heading(officer, 'Check the referral');
    await check(officer, 'refer-check');
    await officer.getByLabel('Anything the helper should know (optional)').fill('Mornings are best.');
    await officer.getByRole('button', { name: 'Send referral' }).click();
    await heading(officer, 'Referral sent');
    state.referral = Number(await officer.locator('.govuk-panel__body strong').innerText());
    await check(officer, 'refer-sent');
    await officer.getByRole('link', { name: 'See the request' }).click();
    await heading(officer, new RegExp(`Request ${state.referral}:`));
    await officer.getByText(`A staff referral by ${users.officer.email}`).waitFor();
    await check(officer, 'help-request-referral');
  }],

  ['a session that ends while a form is open comes back to the form', async () => {
    await officer.goto(`${base}/console/campaigns/new`);
    await heading(officer, 'Create campaign');
    await officer.getByLabel('Campaign name').fill('Text kept across signing in');
    await officer.context().clearCookies();
    await message(officer, 'Hi {first_name|there}, this is kept too.');
    await heading(officer, 'Sign in');
    await officer.getByText('Your session has ended.').waitFor();
    await officer.getByLabel('Email address').fill(users.officer.email);
    await officer.getByLabel('Password', { exact: true }).fill(users.officer.password);
    await officer.getByRole('button', { name: 'Sign in' }).click();
    await heading(officer, 'Create campaign');
    assert.equal(await officer.getByLabel('Campaign name').inputValue(), 'Text kept across signing in');
    assert.equal(await officer.getByLabel('Message', { exact: true }).inputValue(), 'Hi {first_name|there}, this is kept too.');
  }],

  ['cancel a campaign, after confirming', async () => {
    await officer.getByLabel('Campaign name').fill('To be cancelled');
    await officer.getByRole('group', { name: 'Boroughs' }).getByLabel('Maidstone').check();
    await officer.getByRole('button', { name: 'Save draft' }).click();
    await heading(officer, 'To be cancelled');
    await officer.getByRole('button', { name: 'Cancel campaign' }).click();
    await heading(officer, 'Are you sure you want to cancel To be cancelled?');
    await check(officer, 'campaign-cancel');
    await officer.getByRole('button', { name: 'Yes, cancel campaign' }).click();
    await officer.getByText('To be cancelled is cancelled.').waitFor();
    await officer.getByRole('link', { name: 'All campaigns' }).click();
    await check(officer, 'campaigns');
  }],

  ['replies: why one is handled as it is, and teaching one not understood', async () => {
    for (const text of ['sort my telly out', 'Sort my telly out please']) {
      const r = await api('POST', '/v1/sim/inbound', { from: '+447700900377', text });
      assert.equal(r.status, 202);
    }
    await until(async () => (await api('GET', '/v1/replies/unrecognised')).json.items.length > 0, 'the replies stored');
    await officer.getByRole('link', { name: 'Replies' }).click();
    await heading(officer, 'Replies');
    await officer.getByRole('button', { name: 'Explain' }).click();
    await officer.getByRole('link', { name: 'Enter a reply to explain' }).waitFor();
    await officer.getByLabel('A reply').fill('I don’t want these texts');
    await officer.getByRole('button', { name: 'Explain' }).click();
    await officer.getByText('Opts the number out: no more texts').waitFor();
    await officer.getByText('opt_out_phrase').waitFor();
    const row = officer.getByRole('row', { name: /SORT MY TELLY OUT/ });
    assert.match(await row.innerText(), /\b2\b/, 'both replies counted in one group');
    assert.equal(await officer.getByRole('link', { name: /Teach/ }).count(), 0, 'officers do not teach');
    await check(officer, 'replies');

    const admin = await person(browser);
    await signIn(admin, users.admin);
    await admin.getByRole('link', { name: 'Replies' }).click();
    await heading(admin, 'Replies');
    await admin.getByRole('link', { name: 'Teach “SORT MY TELLY OUT”' }).click();
    await heading(admin, 'Teach “SORT MY TELLY OUT”');
    await admin.getByRole('button', { name: 'Teach it' }).click();
    await admin.getByRole('link', { name: 'Choose the keyword it means' }).waitFor();
    await check(admin, 'replies-teach-errors');
    await admin.getByLabel('COMPUTER').check();
    await admin.getByRole('button', { name: 'Teach it' }).click();
    await heading(admin, 'Replies');
    await admin.getByText('“SORT MY TELLY OUT” now means COMPUTER.').waitFor();
    assert.equal(await admin.getByRole('row', { name: /SORT MY TELLY OUT/ }).count(), 0, 'taught: no longer listed');
    await check(admin, 'replies-taught');
    await admin.context().close();
  }],

  ['admin: partners and the webhook secret shown once', async () => {
    const admin = await person(browser);
    await signIn(admin, users.admin);
    await admin.getByRole('link', { name: 'Partners' }).click();
    await heading(admin, 'Partners');
    await check(admin, 'partners');
    await admin.getByRole('button', { name: 'Add a partner' }).click();
    await admin.getByRole('button', { name: 'Add partner' }).click();
    await admin.getByRole('link', { name: 'Enter the partner’s name' }).waitFor();
    await check(admin, 'partner-new-errors');
    await admin.getByLabel('Name').fill('Margate Digital Champions');
    await admin.getByLabel('Money').check();
    await admin.getByLabel('Boroughs they cover').fill('Thanet');
    await admin.getByLabel('Webhook address (optional)').fill('https://champions.example/signpost');
    await admin.getByRole('button', { name: 'Add partner' }).click();
    await heading(admin, 'Margate Digital Champions: the webhook secret');
    assert.match(await admin.locator('#secret').innerText(), /^whsec_[A-Za-z0-9+/=]{24,}$/);
    await check(admin, 'partner-secret');
    await admin.getByRole('link', { name: 'Back to Margate Digital Champions' }).click();
    await heading(admin, 'Margate Digital Champions');
    assert.equal(await admin.locator('#secret').count(), 0, 'the secret is not shown again');
    await check(admin, 'partner-edit');

    await admin.getByRole('link', { name: 'Users' }).click();
    await heading(admin, 'Users');
    await check(admin, 'users');
    await admin.getByRole('button', { name: 'Invite a user' }).click();
    await admin.getByLabel('Email address').fill('champion@champions.example');
    await admin.getByLabel('Partner staff or volunteer').check();
    await admin.getByLabel('Their organisation (partner staff only)').selectOption({ label: 'Margate Digital Champions' });
    await check(admin, 'user-new');
    await admin.getByRole('button', { name: 'Invite' }).click();
    await heading(admin, 'champion@champions.example is invited');
    const link = await admin.locator('#invite-link').innerText();
    await check(admin, 'user-invited');
    await admin.getByRole('link', { name: 'Go to champion@champions.example' }).click();
    await check(admin, 'user');

    const champion = await person(browser);
    await champion.goto(link);
    await heading(champion, 'Create your password');
    await champion.getByLabel('Password', { exact: true }).fill('password1234');
    await champion.getByRole('button', { name: 'Save password and sign in' }).click();
    await champion.getByRole('link', { name: /common passwords/ }).waitFor();
    await check(champion, 'invite-errors');
    await champion.getByLabel('Password', { exact: true }).fill('seagull harbour biscuit');
    await champion.getByRole('button', { name: 'Save password and sign in' }).click();
    await heading(champion, 'Help requests');
    await champion.getByText('Your password is saved and you are signed in.').waitFor();
    await champion.getByRole('link', { name: 'Sign out' }).click();
    await heading(champion, 'Sign in');
    await champion.getByText('You have signed out.').waitFor();
    await check(champion, 'signed-out');
    await champion.context().close();
    await admin.context().close();
  }],

  ['a page that does not exist', async () => {
    await officer.goto(`${base}/console/no-such-page`);
    await heading(officer, 'Page not found');
    await check(officer, 'not-found');
  }],
];

const failed = await run(steps);
await browser.close();
console.log(JSON.stringify({ request: state.request, referral: state.referral }));
process.exit(failed ? 1 : 0);
