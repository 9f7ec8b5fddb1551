-- GET the URL's path with a different student's bearer token on every request.
-- Arguments (after --): the tokens file (one a line) and the number of wrk threads.
local counter = 0

function setup(thread)
  thread:set("thread_no", counter)
  counter = counter + 1
end

function init(args)
  headers = {}
  for line in io.lines(args[1]) do
    if #line > 0 then headers[#headers + 1] = { ["Authorization"] = "Bearer " .. line } end
  end
  -- Threads walk disjoint strides of the list, so every student is asked once before anyone twice.
  stride = tonumber(args[2])
  position = thread_no + 1
end

function request()
  local h = headers[position]
  position = position + stride
  if position > #headers then position = (position - 1) % stride + 1 end
  return wrk.format(nil, nil, h)
end
