/** MQTT topics of the edge agent contract (DESIGN.md "MQTT topics"). */
export const readingTopic = (dev: string): string => `vs/v1/${dev}/r`;
export const ticketTopic = (dev: string): string => `vs/v1/${dev}/ticket`;
export const statusTopic = (dev: string): string => `vs/v1/${dev}/status`;
