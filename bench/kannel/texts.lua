-- texts.lua: the wrk script of bench/kannel.sh. Sends exactly KB_COUNT texts, each one
-- to (or from) its own generated number +447700100000+i, spread over wrk's threads, and
-- stops each thread once all of its texts are answered.
--
-- Environment: KB_PREFIX (the request path and query without the number), KB_PARAM (the
-- query parameter that takes the number: "to" or "from"), KB_COUNT, KB_THREADS (wrk's -t),
-- KB_OK (the HTTP status of an accepted text) and KB_DIR, where each thread leaves
-- "done.<id>" when finished and done() writes "result" (key=value pairs).
--
-- Once a thread has sent its share, request() returns an empty request: wrk writes
-- nothing and the connection waits idle, so no extra load reaches Kannel.

local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

function init(args)
	count = tonumber(os.getenv("KB_COUNT"))
	nthreads = tonumber(os.getenv("KB_THREADS"))
	prefix = os.getenv("KB_PREFIX")
	param = os.getenv("KB_PARAM")
	ok_status = tonumber(os.getenv("KB_OK"))
	dir = os.getenv("KB_DIR")
	-- This thread's share: the numbers i = id, id + nthreads, ... below count.
	share = math.floor((count - id + nthreads - 1) / nthreads)
	sent, answered, failed = 0, 0, 0
	-- wrk calls request() once on its first thread to check the request parses, and
	-- never sends that one: give it a request that takes no number.
	checked = id ~= 0
end

function request()
	if not checked then
		checked = true
		return wrk.format("GET", "/")
	end
	if sent >= share then
		return ""
	end
	local i = id + sent * nthreads
	sent = sent + 1
	return wrk.format("GET", string.format("%s&%s=%%2B%d", prefix, param, 447700100000 + i))
end

function response(status, headers, body)
	answered = answered + 1
	if status ~= ok_status then
		failed = failed + 1
		if failed <= 3 then
			io.stderr:write(string.format("texts.lua: HTTP %d: %s\n", status, body))
		end
	end
	if answered == share then
		local f = io.open(dir .. "/done." .. id, "w")
		f:close()
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local answered_all, failed_all = 0, 0
	for _, t in ipairs(threads) do
		answered_all = answered_all + t:get("answered")
		failed_all = failed_all + t:get("failed")
	end
	local e = summary.errors
	local f = io.open(os.getenv("KB_DIR") .. "/result", "w")
	f:write(string.format("answered=%d failed=%d socket_errors=%d p50_us=%d p99_us=%d\n",
			      answered_all, failed_all, e.connect + e.read + e.write + e.timeout,
			      latency:percentile(50), latency:percentile(99)))
	f:close()
end
