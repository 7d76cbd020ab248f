-- wrk script for `make bench`: formatted numbers from one of 8 prefixes at random.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/next/P" .. math.random(1, 8) .. "?client_id=bench")
end
