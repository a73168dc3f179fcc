namespace OssOrleans.Grains.Cache;

/// <summary>The per-silo limit on origin requests in flight (<see cref="Hosting.CacheOptions.MaxOriginConcurrency"/>).</summary>
internal sealed class OriginGate(int maxConcurrency) : ConcurrencyGate(maxConcurrency);
