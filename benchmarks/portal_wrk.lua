-- wrk script for benchmarks/portal.py: rotate through the requests listed in a file.
--
--     wrk ... -s benchmarks/portal_wrk.lua http://127.0.0.1:PORT -- REQUESTS_FILE
--
-- Each line of REQUESTS_FILE is a path (with its query string), optionally a tab and a Cookie
-- header value. Every thread starts at a different line, so the threads do not ask for the same
-- volunteer or query in step. Responses other than 200 are counted and reported at the end
-- (wrk itself counts a 303 to the login page as a success).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  requests = {}
  for line in f:lines() do
    local path, cookie = line:match("^([^\t]+)\t?(.*)$")
    if path then
      local headers = {}
      if cookie ~= "" then
        headers["Cookie"] = cookie
      end
      table.insert(requests, wrk.format("GET", path, headers))
    end
  end
  f:close()
  assert(#requests > 0, "no requests in " .. args[1])
  position = (id * 7919) % #requests
  bad = 0
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("portal: responses other than 200: %d\n", total))
end
