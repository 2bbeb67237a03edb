/** SNS e-mail subscriptions, SES sending and SQS queues. */
import { money } from "../model";
import type { Pricer } from "../pricer";

export const snsSubscriptions: Pricer<"aws_sns_topic_subscription"> = (_resources, ctx) => {
  ctx.note("SNS e-mail notifications: the first 1,000 a month are free");
};

// SES bills per message sent, not per identity: the volume is an assumption, said as such.
export const sesIdentities: Pricer<"aws_sesv2_email_identity"> = (_resources, ctx) => {
  const { prices } = ctx;
  const messages = prices.assumptions.sesMessagesPerMonth;
  ctx.add(
    "email",
    "SES outbound mail",
    `${messages.toLocaleString("en-US")} messages/month (assumed) x ${money(prices.ses.perThousandMessages)}/1,000`,
    (messages / 1000) * prices.ses.perThousandMessages,
  );
  ctx.note(
    "SES: attachments ($0.12/GB) and dedicated IPs are not included; SES's free tier (3,000 messages a month in an account's first 12 months) is not deducted",
  );
};

export const sqsQueues: Pricer<"aws_sqs_queue"> = (_resources, ctx) => {
  ctx.note("SQS: the first million requests a month are free, not included");
};
