import { ApiProperty } from '@nestjs/swagger';
import { AgentTokenView } from '../agent-tokens.service';

export class AgentTokenResponse implements AgentTokenView {
  @ApiProperty({ example: 'at_0123456789abcdef' })
  id!: string;
  @ApiProperty({ example: 'gpu-host-17' })
  name!: string;
  @ApiProperty({ type: [String], example: ['agent://gpu-host-17', 'agent://rack-4/*'] })
  sources!: string[];
  @ApiProperty({ example: 'gpm_at_AbCdE' })
  token_prefix!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at!: string | null;
}

/** POST /v1/agent-tokens: the token, shown once. */
export class CreatedAgentTokenResponse extends AgentTokenResponse {
  @ApiProperty({ example: 'gpm_at_…', description: 'shown once; stored only as its SHA-256' })
  token!: string;
}

export class AgentTokenListResponse {
  @ApiProperty({ type: () => [AgentTokenResponse] })
  data!: AgentTokenResponse[];
}
