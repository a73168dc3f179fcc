namespace OssOrleans.Client.Security;

/// <summary>
/// Signs every grain call of this client with its tenant's key (<see cref="CallProof"/>), bound to the call's target and
/// the current time. Nothing is added for an anonymous client.
/// </summary>
internal sealed class ClientCallSigner(ClientCredentials credentials) : IOutgoingGrainCallFilter
{
    // Async so that the request context entry stays in this call's flow.
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (credentials.Key is { } key)
        {
            var method = context.InterfaceMethod;
            RequestContext.Set(CallProof.RequestContextKey, CallProof.Create(credentials.Tenant, key, DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                method.DeclaringType!.FullName!, method.Name, context.TargetId.ToString()));
        }
        await context.Invoke().ConfigureAwait(false);
    }
}
