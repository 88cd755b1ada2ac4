-- wrk script: GET one path, rotating through bearer tokens, and report as one JSON line.
--
--   wrk -t1 -c32 -d10s -s bench/rotate_tokens.lua http://127.0.0.1:PORT -- TOKENS_FILE /api/v1/me
--
-- Every response outside 2xx is counted (by status) and reported; done() prints a line starting
-- with "BENCH_RESULT " that the harness parses.

local threads = {}

function setup(thread)
   thread:set("thread_number", #threads)
   table.insert(threads, thread)
end

function init(args)
   tokens = {}
   for line in io.lines(args[1]) do
      if #line > 0 then
         tokens[#tokens + 1] = line
      end
   end
   if #tokens == 0 then
      error("no tokens in " .. args[1])
   end
   request_path = args[2] or "/api/v1/me"
   -- Threads start at different tokens so that they do not walk the list in step.
   position = (thread_number * 7919) % #tokens
   non_2xx = 0
   statuses = ""
   counts = {}
end

function request()
   position = position % #tokens + 1
   return wrk.format("GET", request_path, { ["Authorization"] = "Bearer " .. tokens[position] })
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
      counts[status] = (counts[status] or 0) + 1
      local parts = {}
      for code, count in pairs(counts) do
         parts[#parts + 1] = string.format('"%d": %d', code, count)
      end
      statuses = table.concat(parts, ", ")
   end
end

function done(summary, latency, requests)
   local non_2xx_total = 0
   local status_parts = {}
   for _, thread in ipairs(threads) do
      non_2xx_total = non_2xx_total + (thread:get("non_2xx") or 0)
      local thread_statuses = thread:get("statuses") or ""
      if #thread_statuses > 0 then
         status_parts[#status_parts + 1] = "{" .. thread_statuses .. "}"
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx": %d, '
         .. '"status_counts": [%s], "socket_errors": {"connect": %d, "read": %d, "write": %d, '
         .. '"timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "mean": %.1f, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes, non_2xx_total, table.concat(status_parts, ", "),
      errors.connect, errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max
   ))
end
