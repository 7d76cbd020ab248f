-- wrk script for `make bench`: every request asks for one of 10,000 sequence names at random.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/next/bench-" .. math.random(1, 10000))
end
