/**
 * What to do when the broker refuses the connection, by the code of its CONNACK (an MQTT 3.1.1
 * return code 1–5 or an MQTT 5 reason code): mqtt.js names the code, not the setting to change.
 */
const ADVICE = new Map<number, string>();
const say = (codes: number[], advice: string) => {
  for (const c of codes) ADVICE.set(c, advice);
};
say([1, 0x84], 'the broker does not speak this MQTT version: set upstream.protocol_version (4 = MQTT 3.1.1, 5)');
say([2, 0x85], 'the broker refuses the client id: set upstream.client_id (default edgewise-<gateway id>) to one it allows');
say([3, 0x88, 0x89, 0x9f], 'the broker is unavailable, busy or limits the rate of connections: the gateway tries again with backoff');
say([4, 0x86], 'check upstream.username and upstream.password (or password_file)');
say([5, 0x87], "the broker does not let this client connect: check its ACL or policy for this client id and user (upstream.client_id, upstream.username)");
say([0x8a], 'the broker has banned this client');
say([0x8c], 'the broker wants another authentication method');
say([0x90], "the broker refuses the Last Will's topic (<topic_prefix>/<gateway>/status): allow this client to publish there, or change upstream.topic_prefix");
say([0x95], "the CONNECT is over the broker's packet limit: a shorter client id, user name or password, or raise the broker's limit");
say([0x97], "a quota of the broker's is exceeded");
say([0x9a], 'the broker has no retained messages: status goes unretained from the next connection (set upstream.retain: false to start so)');
say([0x9b], "the broker takes QoS 0 only on this listener (Mosquitto: max_qos 0), and the gateway sends at QoS 1 so that a record leaves the outbox only once the broker has it: allow QoS 1 there");
say([0x9c, 0x9d], 'the broker names another server (its CONNACK Server Reference): set upstream.url to it');

export function connackAdvice(code: unknown): string | undefined {
  return typeof code === 'number' ? ADVICE.get(code) : undefined;
}
