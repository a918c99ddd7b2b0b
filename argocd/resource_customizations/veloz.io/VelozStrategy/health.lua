-- Argo CD health of a VelozStrategy (veloz.io/v1alpha1), from the status the operator writes
-- (operator/src/reconcilers/strategy.ts). Lua 5.1 subset: Argo CD runs gopher-lua.
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata.generation or 0
local observed = obj.status.observedGeneration or 0
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation .. " (status is for " .. observed .. ")"
  return hs
end

-- Not accepted (deployment missing, symbol not traded) needs a change to the resources.
local accepted = condition("Accepted")
if accepted ~= nil and accepted.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(accepted)
  return hs
end

local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(degraded)
  return hs
end

-- A guardrail halted it: it stays stopped until a person sets spec.resumeAfter.
local halted = condition("Halted")
if halted ~= nil and halted.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(halted)
  return hs
end

local running = condition("Running")
-- No engine to run on (its pairs are not the deployment's) needs a change to the resources too.
if running ~= nil and running.status == "False" and running.reason == "NoEngines" then
  hs.status = "Degraded"
  hs.message = describe(running)
  return hs
end

if running ~= nil and running.status == "False" and running.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(running)
  return hs
end

if running ~= nil and running.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(running)
  return hs
end

hs.status = "Progressing"
if running ~= nil then
  hs.message = describe(running)
else
  hs.message = "Waiting for the strategy to start"
end
return hs
