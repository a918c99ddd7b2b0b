// The cron schedules the API server accepts in a VelozDeployment, as one CEL rule.

// What Kubernetes' CronJob accepts (robfig/cron's standard parser): a macro, or five fields
// (minute hour day-of-month month day-of-week) of numbers, `*`, lists, ranges and steps, with `?`
// in the day fields and three-letter names (JAN, MON-FRI) in month and day-of-week. Quartz's L, W
// and # would make the CronJob fail, and a TZ= prefix is spec.backup.timeZone's job, so both are
// refused here. CronJob still checks the ranges (minute 61).
const CRON_NAME_OR_NUMBER = '([0-9]+|[A-Za-z]{3})';
const cronList = (any: string) => {
  const item = `(${any}|${CRON_NAME_OR_NUMBER}(-${CRON_NAME_OR_NUMBER})?)(/[0-9]+)?`;
  return `${item}(,${item})*`;
};
export const CRON_RULE = `self.matches('^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9*/,-]+ [0-9*/,-]+ [0-9*?/,-]+ ${cronList('[*]')} ${cronList('[*?]')})$')`;
