using OssOrleans.Silo.Hosting;

return await SiloApp.RunAsync(args, Console.Out, Console.Error);
