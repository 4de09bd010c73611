import { loadConfig } from '../../app-config';
import { ClickHouseService } from './clickhouse.service';
import { sql } from './sql';

function service(): ClickHouseService {
  return new ClickHouseService(
    loadConfig({
      CLICKHOUSE_URL: 'http://127.0.0.1:1',
      ADMIN_API_KEY: 'k'.repeat(32),
      INGEST_TOKENS: 't'.repeat(32),
    }),
  );
}

const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const answer = (rows: unknown[]) => ({ json: () => Promise.resolve(rows) });

describe('ClickHouseService.query', () => {
  it('sends a read again when the kept-alive socket had been closed by the server', async () => {
    const ch = service();
    const query = jest
      .spyOn(ch.client, 'query')
      .mockRejectedValueOnce(reset())
      .mockResolvedValueOnce(answer([{ n: '1' }]) as never);
    await expect(ch.query(sql`SELECT 1 AS n`)).resolves.toEqual([{ n: '1' }]);
    expect(query).toHaveBeenCalledTimes(2);
    await ch.client.close();
  });

  it('gives up after three resets, and throws any other error at once', async () => {
    const ch = service();
    const query = jest.spyOn(ch.client, 'query').mockRejectedValue(reset());
    await expect(ch.query(sql`SELECT 1`)).rejects.toThrow('socket hang up');
    expect(query).toHaveBeenCalledTimes(3);
    query.mockReset().mockRejectedValue(new Error('Code: 60. Table does not exist'));
    await expect(ch.query(sql`SELECT 1`)).rejects.toThrow('Table does not exist');
    expect(query).toHaveBeenCalledTimes(1);
    await ch.client.close();
  });
});
