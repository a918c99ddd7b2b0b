-- Argo CD health of a VelozDeployment (veloz.io/v1alpha1), from the status the operator writes
-- (operator/src/status/deployment-status.ts). Lua 5.1 subset: Argo CD runs gopher-lua.
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

-- Being deleted: the condition Deleting says what the deletion waits for; a strategy whose
-- engine does not answer holds it until someone acts (docs/runbooks/troubleshooting.md). Argo CD
-- itself reports any resource with a deletionTimestamp as "Pending deletion" before it runs a
-- health check; this is for every other reader of the check.
if obj.metadata.deletionTimestamp ~= nil then
  local deleting = condition("Deleting")
  if deleting ~= nil and deleting.reason == "CleanupBlocked" then
    hs.status = "Degraded"
    hs.message = describe(deleting)
    return hs
  end
  hs.status = "Progressing"
  if deleting ~= nil then
    hs.message = describe(deleting)
  else
    hs.message = "Pending deletion"
  end
  return hs
end

-- A status written for an older spec says nothing about the current one.
local generation = obj.metadata.generation or 0
local observed = obj.status.observedGeneration or 0
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation .. " (status is for " .. observed .. ")"
  return hs
end

local paused = condition("Paused")
if paused ~= nil and paused.status == "True" then
  hs.status = "Suspended"
  hs.message = describe(paused)
  return hs
end

-- Another desk holds this desk's exchange account: it runs no pods until someone acts
-- (docs/runbooks/two-desks-one-account.md). Named before Degraded, whose message is shorter.
local conflict = condition("AccountConflict")
if conflict ~= nil and conflict.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(conflict)
  return hs
end

-- A pair's engine is on a node that is not Ready or is gone: nothing replaces it by itself, a
-- person decides (docs/runbooks/node-loss.md).
local lost = condition("PairLost")
if lost ~= nil and lost.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(lost)
  return hs
end

local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(degraded)
  return hs
end

-- A failing or stale WAL backup puts recent orders at risk: as loud as a failed rollout.
local backup = condition("BackupReady")
if backup ~= nil and backup.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(backup)
  return hs
end

-- A restore drill (spec.backup.verify) found that the newest backup does not restore into what it
-- recorded: a restore from it is not known to work, as bad as having no backup.
local verified = condition("BackupVerified")
if verified ~= nil and verified.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(verified)
  return hs
end

-- The engine's WAL and the exchange disagree in a way it cannot repair: it halted new orders.
local sync = condition("ExchangeInSync")
if sync ~= nil and sync.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(sync)
  return hs
end

-- A change that restarts the engines waits for a maintenance window (spec.maintenance): the desk
-- is on its way to the desired state, on purpose, not failing to reach it.
local rollout = condition("RolloutPending")
if rollout ~= nil and rollout.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(rollout)
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" and (ready.observedGeneration or generation) >= generation then
  if obj.status.phase == "Hibernated" then
    hs.status = "Suspended"
    hs.message = "Hibernated: spec.pairs is 0 (WAL volumes are kept)"
    return hs
  end
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = describe(ready)
else
  hs.message = "Phase " .. (obj.status.phase or "unknown")
end
return hs
