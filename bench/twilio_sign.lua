-- twilio_sign.lua: X-Twilio-Signature for wrk's LuaJIT, which has no crypto library:
-- Base64(HMAC-SHA1(auth token, URL .. name1 .. value1 .. name2 .. value2 ...)), fields
-- sorted by name, as Twilio documents it. SHA-1 (FIPS 180-4) on the `bit` module.
-- Also form encoding, since the signature covers the decoded values and the body carries
-- the encoded ones. bench/signpost_bench.py checks this file against known vectors and
-- Python's hmac before any figure is taken.
local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rol, lshift, rshift, tobit = bit.rol, bit.lshift, bit.rshift, bit.tobit
local byte, char, rep, sub, format = string.byte, string.char, string.rep, string.sub, string.format
local concat, sort = table.concat, table.sort

local M = {}

local w = {}

-- Compresses the 64-byte block of s at offset off (0-based) into state h.
local function sha1_block(h, s, off)
	for i = 0, 15 do
		local a, b, c, d = byte(s, off + 4 * i + 1, off + 4 * i + 4)
		w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
	end
	for i = 16, 79 do
		w[i] = rol(bxor(w[i - 3], w[i - 8], w[i - 14], w[i - 16]), 1)
	end
	local a, b, c, d, e = h[1], h[2], h[3], h[4], h[5]
	for i = 0, 19 do
		local t = tobit(rol(a, 5) + bor(band(b, c), band(bnot(b), d)) + e + w[i] + 0x5A827999)
		e, d, c, b, a = d, c, rol(b, 30), a, t
	end
	for i = 20, 39 do
		local t = tobit(rol(a, 5) + bxor(b, c, d) + e + w[i] + 0x6ED9EBA1)
		e, d, c, b, a = d, c, rol(b, 30), a, t
	end
	for i = 40, 59 do
		local t = tobit(rol(a, 5) + bor(band(b, c), band(b, d), band(c, d)) + e + w[i] + 0x8F1BBCDC)
		e, d, c, b, a = d, c, rol(b, 30), a, t
	end
	for i = 60, 79 do
		local t = tobit(rol(a, 5) + bxor(b, c, d) + e + w[i] + 0xCA62C1D6)
		e, d, c, b, a = d, c, rol(b, 30), a, t
	end
	h[1], h[2], h[3] = tobit(h[1] + a), tobit(h[2] + b), tobit(h[3] + c)
	h[4], h[5] = tobit(h[4] + d), tobit(h[5] + e)
end

local function sha1_init()
	return { 0x67452301, tobit(0xEFCDAB89), tobit(0x98BADCFE), 0x10325476, tobit(0xC3D2E1F0) }
end

local function be32(x)
	return char(band(rshift(x, 24), 255), band(rshift(x, 16), 255), band(rshift(x, 8), 255),
		    band(x, 255))
end

-- Finishes a hash whose state h has already taken `before` bytes (a multiple of 64) with
-- msg, and returns the 20-byte digest.
local function sha1_finish(h, msg, before)
	local bits = (before + #msg) * 8
	local pad = 64 - (#msg + 9) % 64
	if pad == 64 then pad = 0 end
	local s = msg .. "\128" .. rep("\0", pad) .. be32(math.floor(bits / 4294967296)) ..
		  be32(bits % 4294967296)
	for off = 0, #s - 64, 64 do
		sha1_block(h, s, off)
	end
	return be32(h[1]) .. be32(h[2]) .. be32(h[3]) .. be32(h[4]) .. be32(h[5])
end

function M.sha1(msg)
	return sha1_finish(sha1_init(), msg, 0)
end

local function xor_pad(key, v)
	local out = {}
	for i = 1, 64 do
		out[i] = char(bxor(byte(key, i) or 0, v))
	end
	return concat(out)
end

-- An HMAC-SHA1 signer for one key: the padded key blocks are hashed once.
function M.hmac_sha1_key(key)
	if #key > 64 then key = M.sha1(key) end
	local ipad, opad = sha1_init(), sha1_init()
	sha1_block(ipad, xor_pad(key, 0x36), 0)
	sha1_block(opad, xor_pad(key, 0x5c), 0)
	return function(data)
		local ih = { ipad[1], ipad[2], ipad[3], ipad[4], ipad[5] }
		local oh = { opad[1], opad[2], opad[3], opad[4], opad[5] }
		return sha1_finish(oh, sha1_finish(ih, data, 64), 64)
	end
end

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
	local out = {}
	for i = 1, #s, 3 do
		local a, b, c = byte(s, i, i + 2)
		local n = a * 65536 + (b or 0) * 256 + (c or 0)
		local c1, c2 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64
		local c3, c4 = math.floor(n / 64) % 64, n % 64
		out[#out + 1] = sub(b64, c1 + 1, c1 + 1) .. sub(b64, c2 + 1, c2 + 1) ..
			(b and sub(b64, c3 + 1, c3 + 1) or "=") .. (c and sub(b64, c4 + 1, c4 + 1) or "=")
	end
	return concat(out)
end

function M.hex(s)
	return (s:gsub(".", function(c) return format("%02x", byte(c)) end))
end

-- application/x-www-form-urlencoded, as browsers and Twilio write it.
function M.form_escape(s)
	return (s:gsub("[^%w%-%._~ ]", function(c) return format("%%%02X", byte(c)) end)
		 :gsub(" ", "+"))
end

-- fields: a list of {name, value}. Returns the signature and the form body.
function M.sign(hmac, url, fields)
	local sorted = {}
	for i = 1, #fields do sorted[i] = fields[i] end
	sort(sorted, function(x, y)
		if x[1] == y[1] then return x[2] < y[2] end
		return x[1] < y[1]
	end)
	local data, body = { url }, {}
	for i = 1, #sorted do
		data[#data + 1] = sorted[i][1] .. sorted[i][2]
	end
	for i = 1, #fields do
		body[i] = M.form_escape(fields[i][1]) .. "=" .. M.form_escape(fields[i][2])
	end
	return M.base64(hmac(concat(data))), concat(body, "&")
end

return M
