namespace OssOrleans.Gateway;

/// <summary>A request body did not arrive within <see cref="Hosting.GatewayOptions.BodyTimeout"/>.</summary>
internal sealed class BodyTimeoutException(TimeSpan timeout)
    : Exception($"the request body did not arrive within {timeout.TotalSeconds:0} s");
