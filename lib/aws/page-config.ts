/**
 * /config.json of the deployed page (the page publisher writes it): where the API is and how
 * to log in (authorization code with PKCE against the stack's Cognito user pool or another
 * issuer). The local server has none. DOM-safe, a type only: the page publisher writes it and
 * the page (web/auth.ts) reads it.
 */
export interface DeployedPageConfig {
  api: string;
  auth: {
    authorizeUrl: string;
    tokenUrl: string;
    logoutUrl?: string;
    clientId: string;
    redirectUri: string;
    scopes: string[];
  };
}
