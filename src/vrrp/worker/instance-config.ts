// What an instance derives from its configuration: the state machine's settings and what receive
// validation compares an advert with. Recomputed on a reload (Instance.reconfigure).
import type { Addr } from '../../net/addr.js'
import * as fsm from '../fsm.js'
import type { RuntimeInstance } from '../messages.js'
import type { LocalInstance } from '../validate.js'

/** What receive validation compares an advert with (validate.ts). */
export function localOf(cfg: RuntimeInstance): LocalInstance {
  return {
    vrid: cfg.vrid,
    version: cfg.version,
    family: cfg.family,
    priority: cfg.priority,
    advertMs: cfg.advertMs,
    vips: cfg.vips.map((v) => v.prefix.addr),
    ownAddrs: [],
    // unicast with a TTL below 255 crosses routers: the listed peers, not the TTL, say who may speak
    ttlCheck: !(cfg.unicast && cfg.unicast.ttl < 255),
    ...(cfg.auth ? { auth: cfg.auth } : {}),
  }
}

/** The state machine's settings; `primary` is the address this instance advertises from. */
export function fsmConfigOf(cfg: RuntimeInstance, primary: Addr): fsm.FsmConfig {
  return {
    version: cfg.version,
    priority: cfg.priority,
    advertMs: cfg.advertMs,
    primary,
    preempt: cfg.preempt,
    preemptDelayMs: cfg.preemptDelayMs,
    accept: cfg.accept,
    lowerPrioAdvert: cfg.lowerPrioAdvert ?? true,
    lowerPrioAnswerMs: cfg.lowerPrioAnswerMs ?? fsm.DEFAULTS.lowerPrioAnswerMs,
    higherPrioAdvert: cfg.higherPrioAdvert ?? true,
  }
}
