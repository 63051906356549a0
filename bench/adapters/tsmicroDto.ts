import { IsInt, IsNotEmpty, IsString, Min } from 'class-validator';

/**
 * The request DTO of the validating variant: what a user of class-validator would write. Its own module, imported
 * only by that variant, as an application without DTOs would never import class-validator.
 */
export class HelloRequest {
  @IsString() @IsNotEmpty() name!: string;
  @IsInt() @Min(0) n!: number;
}
