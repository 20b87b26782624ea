-- wrk_twilio.lua: signed Twilio webhooks for wrk, each request signed here with its own
-- MessageSid (bench/twilio_sign.lua). Set up through the environment by
-- bench/signpost_bench.py:
--   BENCH_DIR      this directory
--   BENCH_KIND     inbound | status | check
--   BENCH_PUBLIC   the daemon's SIGNPOST_PUBLIC_URL (the URL signatures cover)
--   BENCH_TOKEN, BENCH_ACCOUNT   the Twilio auth token and account sid
--   BENCH_RUN      8 hex digits that start every MessageSid of this run (inbound)
--   BENCH_TENANTS  inbound texts come from the tenants' generated numbers 0..n-1
--   BENCH_FILE     status: lines "message-id sid to"; check: test cases
--   BENCH_FIRST, BENCH_COUNT   status: the slice of BENCH_FILE this run uses
-- done() prints one line "bench-result {json}" with the counts and latencies.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local ts = require("twilio_sign")

local kind = os.getenv("BENCH_KIND")
local public = os.getenv("BENCH_PUBLIC") or ""
local account = os.getenv("BENCH_ACCOUNT") or ""
local hmac = ts.hmac_sha1_key(os.getenv("BENCH_TOKEN") or "")
local sender = "+447700900000"

-- check: signs every case of BENCH_FILE (token, URL, then name=value, tab-separated),
-- prints "signature<TAB>body" per case and exits before any request.
if kind == "check" then
	for line in io.lines(os.getenv("BENCH_FILE")) do
		local parts = {}
		for p in line:gmatch("[^\t]+") do parts[#parts + 1] = p end
		local fields = {}
		for i = 3, #parts do
			local k, v = parts[i]:match("^([^=]*)=(.*)$")
			fields[#fields + 1] = { k, v }
		end
		local sig, body = ts.sign(ts.hmac_sha1_key(parts[1]), parts[2], fields)
		io.write(sig, "\t", body, "\n")
	end
	io.stdout:flush()
	os.exit(0)
end

-- The keyword mix of inbound texts, out of 100: replies to a campaign.
local mix = {
	{ 35, "SKILLS" }, { 15, "money" }, { 10, "Jobs please" }, { 10, "STOP" },
	{ 10, "START" }, { 10, "HELP" }, { 10, "Thanks, who is this?" },
}
local mix_table = {}
for _, m in ipairs(mix) do
	for _ = 1, m[1] do mix_table[#mix_table + 1] = m[2] end
end

local threads, nthreads = {}, 0

function setup(thread)
	thread:set("tid", nthreads)
	threads[#threads + 1] = thread
	nthreads = nthreads + 1
end

-- Globals, so that done() can read them from each thread.
n, ok, bad, first_bad, nreceipts = 0, 0, 0, nil, 0
local tenants = tonumber(os.getenv("BENCH_TENANTS") or "1")
local run = os.getenv("BENCH_RUN") or "00000000"
local receipts = {}

function init(args)
	local step = tonumber(os.getenv("BENCH_THREADS") or "1")
	if kind ~= "status" then return end
	local first = tonumber(os.getenv("BENCH_FIRST") or "0")
	local count = tonumber(os.getenv("BENCH_COUNT") or "0")
	local i = 0
	for line in io.lines(os.getenv("BENCH_FILE")) do
		if i >= first and i < first + count and i % step == tid then
			local id, sid, to = line:match("^(%S+) (%S+) (%S+)$")
			receipts[#receipts + 1] = { id, sid, to }
		end
		i = i + 1
	end
	nreceipts = #receipts
end

local function inbound_request()
	local sid = string.format("SM%s%02x%022d", run, tid, n)
	local from = string.format("+447700%06d", 100000 + (n * 7919 + tid * 104729) % tenants)
	local text = mix_table[n % #mix_table + 1]
	local path = "/v1/providers/twilio/inbound"
	local sig, body = ts.sign(hmac, public .. path, {
		{ "MessageSid", sid }, { "SmsSid", sid }, { "AccountSid", account },
		{ "From", from }, { "To", sender }, { "Body", text }, { "NumMedia", "0" },
		{ "NumSegments", "1" },
	})
	return path, sig, body
end

-- Two receipts per message, "sent" then "delivered", as Twilio posts them.
local function status_request()
	local r = receipts[math.floor(n / 2) % #receipts + 1]
	local status = n % 2 == 0 and "sent" or "delivered"
	local path = "/v1/providers/twilio/status?ref=" .. r[1]
	local sig, body = ts.sign(hmac, public .. path, {
		{ "MessageSid", r[2] }, { "MessageStatus", status }, { "SmsSid", r[2] },
		{ "SmsStatus", status }, { "AccountSid", account }, { "From", sender },
		{ "To", r[3] }, { "ApiVersion", "2010-04-01" },
	})
	return path, sig, body
end

function request()
	local path, sig, body
	if kind == "status" then
		path, sig, body = status_request()
	else
		path, sig, body = inbound_request()
	end
	n = n + 1
	return wrk.format("POST", path, {
		["Content-Type"] = "application/x-www-form-urlencoded",
		["X-Twilio-Signature"] = sig,
		["User-Agent"] = "TwilioProxy/1.1",
	}, body)
end

function response(status, headers, body)
	if status >= 200 and status < 300 then
		ok = ok + 1
	else
		bad = bad + 1
		if not first_bad then first_bad = status .. " " .. (body or ""):sub(1, 200) end
	end
end

local function json_string(s)
	return '"' .. tostring(s):gsub('[%c"\\]', function(c)
		return string.format("\\u%04x", string.byte(c))
	end) .. '"'
end

function done(summary, latency, requests)
	local sent, oks, bads, wrapped, firsts = 0, 0, 0, false, "null"
	for _, t in ipairs(threads) do
		sent = sent + t:get("n")
		oks = oks + t:get("ok")
		bads = bads + t:get("bad")
		local fb = t:get("first_bad")
		if fb and firsts == "null" then firsts = json_string(fb) end
		if kind == "status" and t:get("n") > 2 * t:get("nreceipts") then wrapped = true end
	end
	local e = summary.errors
	io.write(string.format('bench-result {"requests": %d, "duration_us": %d, "sent": %d, ' ..
		'"ok": %d, "not_ok": %d, "first_not_ok": %s, "wrapped": %s, "p50_us": %d, ' ..
		'"p99_us": %d, "max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
		'"status": %d, "timeout": %d}}\n', summary.requests, summary.duration, sent, oks,
		bads, firsts, tostring(wrapped), latency:percentile(50), latency:percentile(99),
		latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
