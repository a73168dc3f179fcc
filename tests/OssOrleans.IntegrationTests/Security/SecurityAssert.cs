namespace OssOrleans.IntegrationTests.Security;

/// <summary>Checks shared by the adversarial tests.</summary>
internal static class SecurityAssert
{
    /// <summary>Awaits a call that must be refused with <see cref="OssAccessDeniedException"/>; <paramref name="what"/> names the attack in a failure.</summary>
    public static async Task<OssAccessDeniedException> DeniedAsync(string what, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (OssAccessDeniedException ex)
        {
            return ex;
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"{what}: expected OssAccessDeniedException, got {ex.GetType().Name}: {ex.Message}");
        }
        throw new Xunit.Sdk.XunitException($"{what}: the call was accepted; expected OssAccessDeniedException");
    }
}
