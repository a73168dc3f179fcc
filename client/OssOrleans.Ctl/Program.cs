using OssOrleans.Ctl;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
await using var stdout = Console.OpenStandardOutput();
return await CtlApp.RunAsync(args, stdout, Console.Error, Environment.GetEnvironmentVariable, cancel.Token);
