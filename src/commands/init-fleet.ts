/**
 * `platctl init`'s fleet repository questions: the ssh URL, who registers Flux's deploy key (`fleet.provider`:
 * a person with `ssh`, or platctl through the Gitea or GitHub API, which also says which environment variable
 * will hold the token: never the config file), the API's address when it cannot be derived, and an optional
 * push webhook URL.
 */
import type { Prompter } from '../clients/prompt.js';
import { parseSshUrl } from '../git/git.js';
import { repoFromUrl, TOKEN_VARS } from '../githost/provider.js';
import type { GitHostProvider } from '../githost/types.js';

const PROVIDERS = ['ssh', 'gitea', 'github'] as const;
type Provider = (typeof PROVIDERS)[number];
const httpUrl = /^https?:\/\/[^/\s]+(\/[^\s]*)?$/;

/** The answers, as platform.yaml's `fleet` and `flux.webhook`, and the token variable to export (if any). */
export interface FleetAnswers {
  fleet: { url: string; provider: Provider; apiUrl?: string };
  webhook?: { url: string };
  tokenVar?: string;
}

/** The host of an ssh URL, or undefined when it is not one. */
function hostOf(url: string): string | undefined {
  try {
    return parseSshUrl(url).host;
  } catch {
    return undefined;
  }
}

/** True when the URL's path is `<owner>/<name>`, as the hosts' APIs address a repository. */
function namesRepo(url: string): boolean {
  try {
    repoFromUrl(url);
    return true;
  } catch {
    return false;
  }
}

/** Asks the fleet questions. */
export async function askFleet(ask: Prompter): Promise<FleetAnswers> {
  const url = await ask.input('Fleet repo (ssh URL)', {
    default: 'ssh://git@github.com/acme/fleet.git',
    validate: (v) => (hostOf(v) ? true : 'an ssh URL such as ssh://git@github.com/acme/fleet.git'),
  });
  const host = hostOf(url) ?? '';
  const provider = (await ask.input(
    `Who registers Flux's deploy key on ${host}: ssh (you add it by hand), gitea (platctl, with GITEA_TOKEN) or github (platctl, with GITHUB_TOKEN)`,
    {
      default: host === 'github.com' ? 'github' : 'ssh',
      validate: (v) => {
        if (!(PROVIDERS as readonly string[]).includes(v)) return 'one of ssh, gitea, github';
        return v === 'ssh' || namesRepo(url) ? true : `${url} must name the repository as <owner>/<name> for ${v}`;
      },
    },
  )) as Provider;
  if (provider === 'ssh') return { fleet: { url, provider } };
  const tokenVar = TOKEN_VARS[provider as GitHostProvider];
  let apiUrl: string | undefined;
  if (provider === 'gitea' || host !== 'github.com') {
    apiUrl = await ask.input(provider === 'gitea' ? 'Gitea server URL (its API)' : 'GitHub Enterprise API URL', {
      default: provider === 'gitea' ? `https://${host}` : `https://${host}/api/v3`,
      validate: (v) => (httpUrl.test(v) ? true : 'an http(s) URL'),
    });
  }
  const hook = (
    await ask.input(
      'Public URL for the push webhook to Flux, through the Istio ingress gateway (empty: no webhook, Flux polls)',
      { default: '', validate: (v) => (v.trim() === '' || httpUrl.test(v.trim()) ? true : 'an http(s) URL or empty') },
    )
  ).trim();
  return {
    fleet: { url, provider, ...(apiUrl ? { apiUrl } : {}) },
    ...(hook ? { webhook: { url: hook } } : {}),
    tokenVar,
  };
}
