import net from 'node:net';
import { z } from 'zod';

/**
 * Who a node is on the overlay, as its Nebula certificate says: name, overlay IP, groups,
 * the issuing CA (its name and fingerprint, which `ca_name` / `ca_sha` rules match), and the
 * unsafe networks it routes for (the certificate's `subnets`, what `default_local_cidr_any` is about).
 */
export const NodeIdentitySchema = z.object({
  name: z.string().min(1),
  ip: z.string().refine((ip) => net.isIP(ip) !== 0, 'expected an IP address'),
  groups: z.array(z.string()),
  caName: z.string().optional(),
  caSha: z.string().optional(),
  subnets: z.array(z.string()).optional(),
});
export type NodeIdentity = z.infer<typeof NodeIdentitySchema>;
